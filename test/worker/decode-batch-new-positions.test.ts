/**
 * The new-positions KV hand-over (decode-batch.ts): on a fused graph that
 * outputs new_key_values.N (the shipped tiny-chat q8 file), a decode step
 * fetches only the logits and the positions it wrote, and the batch keeps
 * the cache in its own buffers with room to grow. Rows of different
 * lengths, a row leaving mid-way and the buffers growing past their first
 * capacity must give every row the logits of its own batch-1 run, which
 * hands the whole presents over as before.
 */
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadModelFolder } from "../../src/model/model-folder.ts";
import { CAPACITY_STEP, DecodeBatch } from "../../src/worker/decode-batch.ts";
import { kvLength } from "../../src/worker/kv-geometry.ts";
import { ModelRunner, type RowKv } from "../../src/worker/model-runner.ts";
import { defaultModelPath, haveDefaultModel } from "../support/fixtures.ts";

const PROMPTS = [[5, 9, 13, 2, 7], Array.from({ length: 17 }, (_, i) => 20 + i), Array.from({ length: 30 }, (_, i) => 60 + (i % 11))];
const STEPS = CAPACITY_STEP + 20; // the longest row outgrows the first buffers
const LEAVES_AT = 40; // row 1 leaves the batch after this many steps
const token = (row: number, step: number): number => 100 + ((row * 31 + step * 7) % 200);

function relativeDiff(a: Float32Array, b: Float32Array): number {
  let scale = 0;
  let worst = 0;
  for (let i = 0; i < a.length; i++) {
    scale = Math.max(scale, Math.abs(a[i]));
    worst = Math.max(worst, Math.abs(a[i] - b[i]));
  }
  return worst / scale;
}

describe.skipIf(!haveDefaultModel)("decode batch: the new-positions hand-over", () => {
  let fused: ModelRunner;
  let plain: ModelRunner;
  beforeAll(async () => {
    fused = await ModelRunner.create(loadModelFolder(defaultModelPath, "q8"), { device: "cpu", threads: 1 });
    plain = await ModelRunner.create(loadModelFolder(defaultModelPath, "fp32"), { device: "cpu", threads: 1 });
  });
  afterAll(async () => {
    await fused?.release();
    await plain?.release();
  });

  it("is chosen for a graph with new_key_values outputs and in-place attention, and only then", () => {
    expect(fused.io.kv.newPositions).toBe(true);
    expect(fused.io.kv.layers[0]).toMatchObject({ newKey: "new_key_values.0.key", newValue: "new_key_values.0.value" });
    expect(DecodeBatch.for(fused.io, "in-place").handOver).toBe("new-positions");
    expect(DecodeBatch.for(fused.io, "appended").handOver).toBe("presents");
    expect(plain.io.kv.newPositions).toBe(false);
    expect(DecodeBatch.for(plain.io, "appended").handOver).toBe("presents");
    expect(DecodeBatch.for(fused.io, "in-place").fetches("logits")).toEqual(["logits", ...fused.io.kv.layers.flatMap((l) => [l.newKey, l.newValue])]);
  });

  it("rows of different lengths, one leaving, the buffers growing: every step equals batch 1", async () => {
    // References: each row alone, batch 1, whole presents handed over.
    const alone: Float32Array[][] = [];
    const joining: Array<{ kv: RowKv; length: number }> = [];
    for (const [row, prompt] of PROMPTS.entries()) {
      const kv = fused.emptyKv();
      await fused.forward(kv, prompt);
      joining.push({ kv: { past: { ...kv.past }, length: kv.length }, length: kv.length });
      const steps: Float32Array[] = [];
      for (let s = 0; s < STEPS; s++) steps.push((await fused.forward(kv, [token(row, s)])).slice());
      alone.push(steps);
    }

    const batch = DecodeBatch.for(fused.io, "in-place");
    batch.rebuild(() => false, joining.map((j, row) => ({ rowId: row, past: j.kv.past, sourceRow: 0, length: j.length })));
    const firstRoom = kvLength(batch.feeds().past[fused.io.kv.layers[0].pastKey]);
    expect(firstRoom).toBe(30 + CAPACITY_STEP);
    let worst = 0;
    for (let s = 0; s < STEPS; s++) {
      if (s === LEAVES_AT) batch.rebuild((id) => id !== 1, []);
      const logits = await fused.decode(batch, batch.rowIds.map((row) => token(row, s)));
      batch.rowIds.forEach((row, i) => (worst = Math.max(worst, relativeDiff(alone[row][s], logits[i]))));
    }
    expect(batch.rowIds).toEqual([0, 2]);
    expect(batch.lengths).toEqual([PROMPTS[0].length + STEPS, PROMPTS[2].length + STEPS]);
    expect(kvLength(batch.feeds().past[fused.io.kv.layers[0].pastKey])).toBeGreaterThan(firstRoom);
    expect(worst).toBeLessThanOrEqual(1e-5);
  });

  it("runs to the last position of the context, where the room passes the model's positions", async () => {
    const limit = loadModelFolder(defaultModelPath).contextLength;
    const kv = fused.emptyKv();
    const promptLength = limit - CAPACITY_STEP - 10;
    await fused.forward(kv, Array.from({ length: promptLength }, (_, i) => 20 + (i % 300)));
    const batch = DecodeBatch.for(fused.io, "in-place");
    batch.rebuild(() => false, [{ rowId: 0, past: kv.past, sourceRow: 0, length: promptLength }]);
    const reference = { past: { ...kv.past }, length: kv.length };
    let worst = 0;
    for (let s = 0; batch.lengths[0] < limit - 1; s++) {
      const [logits] = await fused.decode(batch, [token(0, s)]);
      worst = Math.max(worst, relativeDiff(await fused.forward(reference, [token(0, s)]), logits));
    }
    expect(batch.lengths[0]).toBe(limit - 1);
    expect(kvLength(batch.feeds().past[fused.io.kv.layers[0].pastKey])).toBeGreaterThan(limit);
    expect(worst).toBeLessThanOrEqual(1e-5);
  });
});
