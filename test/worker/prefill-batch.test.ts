/**
 * Right-padded batched prefill gives every row the logits and the cache of
 * its own batch-1 prefill, for plain attention and GroupQueryAttention.
 */
import { describe, expect, it } from "vitest";
import { loadModelFolder } from "../../src/model/model-folder.ts";
import { DecodeBatch } from "../../src/worker/decode-batch.ts";
import { ModelRunner } from "../../src/worker/model-runner.ts";
import { probePlacement } from "../../src/worker/placement-probe.ts";
import { fixturePath, haveFixtures } from "../support/fixtures.ts";

const MODELS = ["tiny-random-gpt2-fp32", "tiny-random-LlamaForCausalLM-fp32-reconstructed", "tiny-random-LlamaForCausalLM-fp16", "tiny-graph-capture-gqa-fp16"];
const PROMPTS = [[5, 9, 13, 2, 7], [11], [3, 4, 5], [8, 8, 8, 8, 8, 8, 8]];

function maxDiff(a: Float32Array, b: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

describe.skipIf(!haveFixtures)("batched prefill", () => {
  for (const name of MODELS) {
    it(`${name}: each row's logits, then two decode steps, equal batch 1`, async () => {
      const runner = await ModelRunner.create(loadModelFolder(fixturePath(name)), { device: "cpu", threads: 1 });
      const half = runner.io.logits.dtype === "float16";
      const tolerance = half ? 2e-3 : 1e-5;
      const alone: Float32Array[][] = [];
      for (const prompt of PROMPTS) {
        const kv = runner.emptyKv();
        const first = (await runner.forward(kv, prompt)).slice();
        const second = (await runner.forward(kv, [6])).slice();
        const third = (await runner.forward(kv, [7])).slice();
        alone.push([first, second, third]);
      }
      const { logits, past } = await runner.prefillBatch(PROMPTS);
      logits.forEach((l, r) => expect(maxDiff(l, alone[r][0])).toBeLessThanOrEqual(tolerance));

      const { placement } = await probePlacement(runner);
      const batch = DecodeBatch.for(runner.io, placement!);
      batch.rebuild(() => false, PROMPTS.map((p, r) => ({ rowId: r, past, sourceRow: r, length: p.length })));
      const step2 = await runner.decode(batch, PROMPTS.map(() => 6));
      const step3 = await runner.decode(batch, PROMPTS.map(() => 7));
      PROMPTS.forEach((_, r) => {
        expect(maxDiff(step2[r], alone[r][1])).toBeLessThanOrEqual(tolerance);
        expect(maxDiff(step3[r], alone[r][2])).toBeLessThanOrEqual(tolerance);
      });
      await runner.release();
    });
  }
});
