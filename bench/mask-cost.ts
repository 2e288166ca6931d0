/**
 * The mask-cost section of `npm run bench` (issue 11, "Speed"): what a
 * constrained row costs its worker per step, on three vocabulary sizes and
 * four schemas. No model runs here: the figures are pure CPU time of the
 * constraint code, so they print as times, not as ratios. Runs alone too:
 *
 *   npx tsx bench/mask-cost.ts [--quick]
 */
import { parseArgs } from "node:util";
import { fileURLToPath } from "node:url";
import { measureMaskCost, type MaskCost, type MaskCostOptions } from "./mask-measure.ts";
import { BENCH_SCHEMAS } from "./mask-schemas.ts";
import { benchVocabularies } from "./mask-vocabularies.ts";

export function maskCostOptions(quick: boolean): MaskCostOptions {
  return { sequences: quick ? 10 : 40, maxSteps: 256, coldRepeats: quick ? 3 : 5, seed: 0x6d61736b };
}

const COLUMNS: Array<[string, number, (c: MaskCost) => string]> = [
  ["vocabulary", 18, (c) => c.vocab],
  ["schema", 15, (c) => c.schema],
  ["compile ms", 10, (c) => ms(c.compileMs)],
  ["mask p50/p99 ms", 17, (c) => `${ms(c.maskMs.p50)} / ${ms(c.maskMs.p99)}`],
  ["max ms", 8, (c) => ms(c.maskMs.max)],
  ["step p50/p99 ms", 17, (c) => `${ms(c.stepMs.p50)} / ${ms(c.stepMs.p99)}`],
  ["first ms", 9, (c) => ms(c.coldMs)],
  ["1st seq ms", 10, (c) => ms(c.firstSequenceMs)],
  ["walks", 6, (c) => `${Math.round(c.walkShare * 100)}%`],
  ["nodes/walk", 11, (c) => String(Math.round(c.nodesPerWalk))],
  ["allowed", 8, (c) => String(Math.round(c.meanAllowed))],
  ["steps", 6, (c) => String(c.steps)],
  ["complete", 8, (c) => `${c.completed}/${c.sequences}`],
];

function ms(n: number): string {
  return n >= 10 ? n.toFixed(1) : n.toFixed(3);
}

const line = (cells: string[]): string => `   ${cells.map((c, i) => (i < 2 ? c.padEnd(COLUMNS[i][1]) : c.padStart(COLUMNS[i][1]))).join("  ")}`;

/** Measures every (vocabulary, schema) pair and prints the section; `progress` gets a line per vocabulary. */
export function maskCostSection(quick: boolean, say: (line: string) => void, progress: (line: string) => void): void {
  const o = maskCostOptions(quick);
  const lines: string[] = [
    `== constrained decoding: mask cost per step (${o.sequences} sequences of up to ${o.maxSteps} tokens per schema, ` +
      `a seeded random walk over the allowed tokens, one mask cache per schema as in a worker)`,
  ];
  const rows: MaskCost[] = [];
  for (const entry of benchVocabularies()) {
    if (!entry.ok) {
      lines.push(`   ${entry.line}`);
      continue;
    }
    const v = entry.vocab;
    progress(`  mask cost on ${v.name}...`);
    lines.push(
      `   vocabulary ${v.name}: ${v.vocabulary.vocabSize} ids (${v.tokens} with bytes), trie of ${v.trieNodes} nodes built in ` +
        `${v.trieBuildMs.toFixed(1)} ms (once per worker)${v.asciiOnly ? ", strings in ASCII only" : ""}`,
    );
    for (const schema of BENCH_SCHEMAS) rows.push(measureMaskCost(v, schema, o));
  }
  lines.push(line(COLUMNS.map(([h]) => h)), ...rows.map((r) => line(COLUMNS.map(([, , cell]) => cell(r)))));
  lines.push(
    "   compile = the schema to its grammar, once per schema (and once more on the request path, to answer 400s); mask = RowConstraint.mask() (WorkerRow.prepare, while the forward pass runs); step = mask + applyMask + advance + complete " +
      "(all a constrained row adds to its worker's step); first = a fresh schema's first mask, empty cache (median of " +
      `${o.coldRepeats}); 1st seq = mean mask per step of the first sequence, which starts on that empty cache; walks = steps whose mask missed the cache and walked the trie; allowed = mean tokens allowed per step`,
  );
  for (const l of lines) say(l);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { values } = parseArgs({ options: { quick: { type: "boolean" } }, strict: true });
  maskCostSection(values.quick === true, (l) => void process.stdout.write(`${l}\n`), (l) => void process.stderr.write(`${l}\n`));
}
