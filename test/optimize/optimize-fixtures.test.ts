/**
 * The optimizer on the four third-party fixture models (skipped without
 * ../shared/fixtures): GPT-2 with contrib attention (past.onnx, int32 ids),
 * Llama in float16 and float32 with external data (model.onnx.data), and a
 * float16 GQA graph. Each optimized copy must load in ORT through the
 * server's ModelRunner and stay close to its float original.
 *
 * Their weights are random and their logits tiny (scale 0.015 to 0.7, see
 * the fixtures' README), so tolerances are stated relative to each model's
 * logit scale (the largest |logit| seen):
 *   q8: max |diff| <= 3%, mean <= 0.5%, top-1 agreement >= 95%, and greedy
 *       ids may only part where the float model was within 2% of a tie;
 *   q4: max |diff| <= 25%, mean <= 4%, top-1 agreement >= 60%.
 * Measured (ORT 1.30, AVX512-VNNI CPU, 2 prompts x 20 tokens): q8 max
 * 0.8-0.9%, mean 0.10-0.14%, top-1 95-100%, ids equal except on
 * gqa-fp16, which parts at exact float16 ties; q4 max 7.7-10.4%, mean
 * 1.1-1.5%, top-1 72.5-100%.
 */
import { afterAll, describe, expect, it } from "vitest";
import { existsSync, readFileSync } from "node:fs";
import { loadModelFolder } from "../../src/model/model-folder.ts";
import { fixturePath, haveFixtures } from "../support/fixtures.ts";
import { compareLogits, describeComparison } from "./support/logit-compare.ts";
import { openRunner, optimizeFolder, removeTempCopy, tempCopy } from "./support/optimized-copy.ts";

const PROMPT_IDS: Record<string, number[][]> = {
  "tiny-random-gpt2-fp32": [[259, 262, 886, 11, 339, 373, 319, 340], [258, 373, 319]],
  "tiny-random-LlamaForCausalLM-fp16": [[1, 297, 278, 1095, 29892, 540, 471, 373, 372], [1, 540, 471, 373]],
  "tiny-random-LlamaForCausalLM-fp32-reconstructed": [[1, 297, 278, 1095, 29892, 540, 471, 373, 372], [1, 540, 471, 373]],
  "tiny-graph-capture-gqa-fp16": [[...Buffer.from("in the end, he was on it")], [...Buffer.from("he was on")]],
};

const TOLERANCE = {
  q8: { max: 0.03, mean: 0.005, top1: 0.95 },
  q4: { max: 0.25, mean: 0.04, top1: 0.6 },
} as const;

describe.skipIf(!haveFixtures)("optimize: fixture models load in ORT and stay close to float", () => {
  const copies: string[] = [];
  afterAll(() => copies.forEach(removeTempCopy));

  for (const [name, prompts] of Object.entries(PROMPT_IDS)) {
    for (const dtype of ["q8", "q4"] as const) {
      it(`${name}, ${dtype}`, async () => {
        const dir = tempCopy(fixturePath(name));
        copies.push(dir);
        const reference = await openRunner(loadModelFolder(dir));
        const { folder, result } = optimizeFolder(dir, dtype);
        expect(result.report.quantized.length).toBeGreaterThan(0);
        expect(result.report.left).toEqual([]);
        if (existsSync(`${loadModelFolder(dir).onnxPath}.data`)) {
          // External data in, external data out: its own file, never the input's.
          expect(result.output.dataPath).toBe(`${result.output.path}_data`);
          expect(readFileSync(result.output.path).includes(Buffer.from("model.onnx.data"))).toBe(false);
        }
        const candidate = await openRunner(folder);
        try {
          const c = await compareLogits(reference, candidate, prompts, { steps: 20 });
          console.info(describeComparison(`${name} ${dtype}`, c));
          const t = TOLERANCE[dtype];
          expect(c.maxAbsDiff).toBeLessThanOrEqual(t.max * c.scale);
          expect(c.meanAbsDiff).toBeLessThanOrEqual(t.mean * c.scale);
          expect(c.top1Agreement).toBeGreaterThanOrEqual(t.top1);
          if (dtype === "q8") for (const m of c.divergenceMargins) expect(m).toBeLessThanOrEqual(0.02 * c.scale);
        } finally {
          await Promise.all([reference.release(), candidate.release()]);
        }
      });
    }
  }
});
