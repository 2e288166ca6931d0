/**
 * --fuse on the four third-party fixture models (skipped without
 * ../shared/fixtures). Each is already an ONNX Runtime export with contrib
 * attention (GPT-2's Attention, the builder's MultiHeadAttention or
 * GroupQueryAttention), so each must be reported as already fused, with
 * q4 falling back to exactly the quantize-only file and fp32 writing
 * nothing.
 */
import { existsSync, readFileSync } from "node:fs";
import { afterAll, describe, expect, it } from "vitest";
import { loadModelFolder } from "../../src/model/model-folder.ts";
import { outputPathFor, quantizeOptionsFor } from "../../src/optimize/dtypes.ts";
import { fuseModelFile } from "../../src/optimize/fuse/fuse-model.ts";
import { optimizeModelFile } from "../../src/optimize/optimize-model.ts";
import { fixturePath, haveFixtures } from "../support/fixtures.ts";
import { removeTempCopy, tempCopy } from "./support/optimized-copy.ts";

const ALREADY_FUSED: Record<string, string> = {
  "tiny-random-gpt2-fp32": "Attention",
  "tiny-random-LlamaForCausalLM-fp16": "MultiHeadAttention",
  "tiny-random-LlamaForCausalLM-fp32-reconstructed": "GroupQueryAttention",
  "tiny-graph-capture-gqa-fp16": "GroupQueryAttention",
};

describe.skipIf(!haveFixtures)("optimize --fuse: fixture models are reported as already fused", () => {
  const copies: string[] = [];
  afterAll(() => copies.forEach(removeTempCopy));

  for (const [name, op] of Object.entries(ALREADY_FUSED)) {
    it(`${name}: reported (${op}), q4 quantize-only, fp32 nothing`, async () => {
      const dir = tempCopy(fixturePath(name));
      copies.push(dir);
      const input = loadModelFolder(dir).onnxPath;
      const result = await fuseModelFile(input, outputPathFor(input, "q4"), quantizeOptionsFor("q4"));
      expect(result.fusion).toEqual({ fused: false, reason: `the graph already uses ONNX Runtime's fused ${op}` });
      // The quantize-only file, made in a second copy under the same name (the external data file is named after it).
      const other = tempCopy(fixturePath(name));
      copies.push(other);
      const otherInput = loadModelFolder(other).onnxPath;
      const plain = optimizeModelFile(otherInput, outputPathFor(otherInput, "q4"), quantizeOptionsFor("q4"));
      expect(readFileSync(result.output.path).equals(readFileSync(plain.output.path))).toBe(true);
      if (plain.output.dataPath) expect(readFileSync(result.output.dataPath!).equals(readFileSync(plain.output.dataPath))).toBe(true);
      expect(loadModelFolder(dir, "q4").onnxPath).toBe(result.output.path);
      await expect(fuseModelFile(input, outputPathFor(input, "fp32"), null)).rejects.toThrow(/not fused: the graph already uses .*nothing written/);
      expect(existsSync(outputPathFor(input, "fp32"))).toBe(false);
    });
  }
});
