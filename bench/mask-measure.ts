/**
 * One (vocabulary, schema) cell of the mask-cost bench. Times exactly what a
 * worker pays per step of a constrained row: RowConstraint.mask() (in
 * WorkerRow.prepare, a cache lookup or a trie walk), then, once logits are
 * there, applyMask with the same mask, advance(token) and `complete`
 * (WorkerRow.next). The draw of the token stands in for the model and is
 * not timed. All sequences share one CompiledConstraint, as rows asking for
 * the same schema share one in a worker, so its mask cache warms up over
 * them; the first sequence starts on an empty cache. The cold first step
 * (a fresh CompiledConstraint's first mask) is timed apart, several times.
 */
import { compileSchema, DEFAULT_COMPILE_OPTIONS } from "../src/generation/constraint/schema-compiler.ts";
import { CompiledConstraint, RowConstraint } from "../src/generation/constraint/row-constraint.ts";
import { applyMask } from "../src/generation/constraint/token-mask.ts";
import type { BenchSchema } from "./mask-schemas.ts";
import type { BenchVocabulary } from "./mask-vocabularies.ts";
import { TokenPicker } from "./mask-walk.ts";
import { mulberry32 } from "./rng.ts";
import { percentile } from "./stats.ts";

export interface MaskCostOptions {
  sequences: number;
  /** A sequence still going after this many tokens is cut, as max_tokens would. */
  maxSteps: number;
  /** Fresh-cache first steps timed for the cold figure (median reported). */
  coldRepeats: number;
  seed: number;
}

export interface MaskCost {
  vocab: string;
  schema: string;
  steps: number;
  /** Sequences that ended with a complete value (the rest hit maxSteps). */
  completed: number;
  sequences: number;
  compileMs: number;
  maskMs: { p50: number; p99: number; max: number };
  /** mask + applyMask + advance + complete. */
  stepMs: { p50: number; p99: number };
  coldMs: number;
  /** Mean mask time per step of the first sequence, which starts on an empty cache. */
  firstSequenceMs: number;
  /** Steps whose mask was a cache miss (a trie walk), and the mean trie nodes one walk stepped through. */
  walkShare: number;
  nodesPerWalk: number;
  /** Mean allowed tokens per step. */
  meanAllowed: number;
}

export function measureMaskCost(vocab: BenchVocabulary, bench: BenchSchema, o: MaskCostOptions): MaskCost {
  const { vocabulary } = vocab;
  const { asciiOnly } = vocab;
  const t0 = performance.now();
  const grammar = compileSchema(bench.schema, { ...DEFAULT_COMPILE_OPTIONS, asciiOnly });
  const compileMs = performance.now() - t0;

  const cold: number[] = [];
  for (let r = 0; r < o.coldRepeats; r++) {
    const row = new RowConstraint(new CompiledConstraint(grammar, vocabulary));
    const start = performance.now();
    row.mask();
    cold.push(performance.now() - start);
  }

  const compiled = new CompiledConstraint(grammar, vocabulary);
  const picker = new TokenPicker(vocabulary, mulberry32(o.seed));
  const logits = new Float32Array(vocabulary.vocabSize);
  const maskMs: number[] = [];
  const stepMs: number[] = [];
  let completed = 0;
  let allowed = 0;
  let walks = 0;
  let firstSequenceSteps = 0;
  for (let s = 0; s < o.sequences; s++) {
    const row = new RowConstraint(compiled);
    for (let step = 0; step < o.maxSteps; step++) {
      const computedBefore = compiled.masks.stats.computed;
      const a = performance.now();
      const mask = row.mask();
      const b = performance.now();
      if (compiled.masks.stats.computed > computedBefore) walks++;
      const token = picker.pick(mask);
      allowed += picker.lastCount;
      const c = performance.now();
      applyMask(logits, row.mask());
      row.advance(token);
      const done = row.complete || vocabulary.eosIds.includes(token);
      const d = performance.now();
      maskMs.push(b - a);
      if (s === 0) firstSequenceSteps++;
      stepMs.push(b - a + (d - c));
      if (done) {
        completed++;
        break;
      }
    }
  }
  const { stats } = compiled.masks;
  return {
    vocab: vocab.name,
    schema: bench.name,
    steps: maskMs.length,
    completed,
    sequences: o.sequences,
    compileMs,
    maskMs: { p50: percentile(maskMs, 50), p99: percentile(maskMs, 99), max: Math.max(...maskMs) },
    stepMs: { p50: percentile(stepMs, 50), p99: percentile(stepMs, 99) },
    coldMs: percentile(cold, 50),
    firstSequenceMs: maskMs.slice(0, firstSequenceSteps).reduce((a, b) => a + b, 0) / firstSequenceSteps,
    walkShare: walks / maskMs.length,
    nodesPerWalk: stats.computed > 0 ? stats.nodesVisited / stats.computed : 0,
    meanAllowed: allowed / maskMs.length,
  };
}
