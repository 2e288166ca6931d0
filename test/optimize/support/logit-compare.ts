/**
 * Compares a quantized model with its float original through the server's
 * own forward path (ModelRunner, KV cache between steps):
 *
 * - free greedy decoding of both: are the ids the same? When they part,
 *   how close to a tie was the float model there (its top-1/top-2 margin)?
 * - teacher-forced: the quantized model is fed the float model's greedy
 *   ids, so every position compares logits on the same context and errors
 *   do not compound: max and mean |diff|, and how often the top-1 agrees.
 */
import { argmax } from "../../../src/generation/sampler.ts";
import type { ModelRunner } from "../../../src/worker/model-runner.ts";

export interface LogitComparison {
  prompts: number;
  positions: number;
  /** Largest |logit| of the reference over the compared positions: the scale errors are judged against. */
  scale: number;
  maxAbsDiff: number;
  meanAbsDiff: number;
  /** Fraction of teacher-forced positions whose argmax agrees. */
  top1Agreement: number;
  /** Prompts whose free greedy ids are identical. */
  greedyEqual: number;
  /** For each prompt whose ids part: the reference's top-1/top-2 margin where they part. */
  divergenceMargins: number[];
}

export interface CompareOptions {
  steps: number;
  /** Stop a prompt's decoding after one of these ids (the model's EOS), as the server would. */
  stopIds?: number[];
}

interface Decoded {
  ids: number[];
  logits: Float32Array[];
}

export async function greedy(runner: ModelRunner, prompt: number[], options: CompareOptions): Promise<Decoded> {
  const kv = runner.emptyKv();
  let logits = await runner.forward(kv, prompt);
  const out: Decoded = { ids: [], logits: [] };
  for (let i = 0; i < options.steps; i++) {
    const id = argmax(logits);
    out.logits.push(logits);
    out.ids.push(id);
    if (options.stopIds?.includes(id) || i + 1 === options.steps) break;
    logits = await runner.forward(kv, [id]);
  }
  return out;
}

/** The candidate's logits at each position of `prompt` + `ids` (teacher forcing). */
export async function forced(runner: ModelRunner, prompt: number[], ids: number[]): Promise<Float32Array[]> {
  const kv = runner.emptyKv();
  const out = [await runner.forward(kv, prompt)];
  for (let i = 0; i + 1 < ids.length; i++) out.push(await runner.forward(kv, [ids[i]]));
  return out;
}

export function topMargin(logits: Float32Array): number {
  let first = -Infinity;
  let second = -Infinity;
  for (const v of logits) {
    if (v > first) [first, second] = [v, first];
    else if (v > second) second = v;
  }
  return first - second;
}

export async function compareLogits(reference: ModelRunner, candidate: ModelRunner, prompts: number[][], options: CompareOptions): Promise<LogitComparison> {
  const c: LogitComparison = { prompts: prompts.length, positions: 0, scale: 0, maxAbsDiff: 0, meanAbsDiff: 0, top1Agreement: 0, greedyEqual: 0, divergenceMargins: [] };
  let sum = 0;
  let count = 0;
  let agree = 0;
  for (const prompt of prompts) {
    const ref = await greedy(reference, prompt, options);
    const got = await forced(candidate, prompt, ref.ids);
    got.forEach((logits, p) => {
      const want = ref.logits[p];
      for (let i = 0; i < logits.length; i++) {
        c.scale = Math.max(c.scale, Math.abs(want[i]));
        const d = Math.abs(logits[i] - want[i]);
        if (d > c.maxAbsDiff) c.maxAbsDiff = d;
        sum += d;
      }
      count += logits.length;
      c.positions++;
      if (argmax(logits) === argmax(want)) agree++;
    });
    const free = await greedy(candidate, prompt, options);
    const part = ref.ids.findIndex((id, i) => free.ids[i] !== id);
    if (part < 0 && free.ids.length === ref.ids.length) c.greedyEqual++;
    else c.divergenceMargins.push(topMargin(ref.logits[part < 0 ? ref.ids.length - 1 : part]));
  }
  c.meanAbsDiff = sum / count;
  c.top1Agreement = agree / c.positions;
  return c;
}

export function describeComparison(label: string, c: LogitComparison): string {
  return (
    `${label}: max |diff| ${c.maxAbsDiff.toExponential(2)}, mean ${c.meanAbsDiff.toExponential(2)} ` +
    `(logit scale ${c.scale.toPrecision(3)}), top-1 agreement ${(c.top1Agreement * 100).toFixed(1)}% of ${c.positions} positions, ` +
    `greedy ids equal for ${c.greedyEqual}/${c.prompts} prompts` +
    (c.divergenceMargins.length ? ` (parted where fp32's top-2 margin was ${c.divergenceMargins.map((m) => m.toExponential(1)).join(", ")})` : "")
  );
}
