/**
 * The server's batched path, as a step of the worker runs it: one
 * right-padded prefill of every prompt (ModelRunner.prefillBatch), the rows
 * joined into a DecodeBatch with the placement the load-time probe measured,
 * then batched decode steps. Returns every step's logits per row, so two
 * models can be compared on exactly what the server would compute.
 */
import { argmax } from "../../../src/generation/sampler.ts";
import { DecodeBatch } from "../../../src/worker/decode-batch.ts";
import type { ModelRunner } from "../../../src/worker/model-runner.ts";
import { probePlacement } from "../../../src/worker/placement-probe.ts";

export interface BatchedRun {
  /** [step][row]: step 0 is the prefill's last position of each row. */
  logits: Float32Array[][];
  /** [step][row]: the token fed at each decode step. */
  tokens: number[][];
}

/** Greedy, or fed `forced[step][row]` when given (to replay another model's tokens). */
export async function batchedDecode(runner: ModelRunner, prompts: number[][], steps: number, forced?: number[][]): Promise<BatchedRun> {
  const probe = await probePlacement(runner);
  if (!probe.placement) throw new Error(`the placement probe refuses batched decoding: ${probe.reason}`);
  const prefill = await runner.prefillBatch(prompts);
  const batch = DecodeBatch.for(runner.io, probe.placement);
  batch.rebuild(
    () => false,
    prompts.map((p, row) => ({ rowId: row, past: prefill.past, sourceRow: row, length: p.length })),
  );
  const run: BatchedRun = { logits: [prefill.logits], tokens: [] };
  for (let step = 0; step < steps; step++) {
    const tokens = forced?.[step] ?? run.logits[step].map((l) => argmax(l));
    run.tokens.push(tokens);
    run.logits.push(await runner.decode(batch, tokens));
  }
  return run;
}

/** Largest |a - b| over every step and row, relative to the largest |a|. */
export function relativeDiff(a: Float32Array[][], b: Float32Array[][]): number {
  let scale = 0;
  let worst = 0;
  a.forEach((rows, s) =>
    rows.forEach((x, r) => {
      const y = b[s][r];
      for (let i = 0; i < x.length; i++) {
        scale = Math.max(scale, Math.abs(x[i]));
        worst = Math.max(worst, Math.abs(x[i] - y[i]));
      }
    }),
  );
  return worst / scale;
}
