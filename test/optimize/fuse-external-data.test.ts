/**
 * --fuse with external data: a model whose weights live in model.onnx_data
 * is fused into outputs with their own data files (the input's data may be
 * deleted afterwards), and a fused graph too large to verify from memory is
 * verified from a temporary external-data copy without altering the model
 * that is then written.
 */
import { existsSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadModelFolder } from "../../src/model/model-folder.ts";
import { DEFAULT_LAYOUT, fuseLoadedModel } from "../../src/optimize/fuse/fuse-model.ts";
import { readModel } from "../../src/optimize/model-reader.ts";
import { writeModel } from "../../src/optimize/model-writer.ts";
import { encodeModel } from "../../src/optimize/onnx-proto.ts";
import { tinyChat } from "../support/fixtures.ts";
import { forced, greedy } from "./support/logit-compare.ts";
import { fuseFolder, openRunner, removeTempCopy, tempCopy } from "./support/optimized-copy.ts";

const PROMPT = [412, 10, 11, 12, 13, 14, 15, 16];

describe("optimize --fuse: external data", () => {
  let dir: string;
  beforeAll(() => {
    dir = tempCopy(tinyChat);
    const path = join(dir, "onnx/model.onnx");
    const loaded = readModel(path);
    writeModel(loaded.model, path, { external: true, sourceDir: loaded.dir });
  });
  afterAll(() => removeTempCopy(dir));

  it("outputs get their own data files and still answer as the float model once the input's data is gone", async () => {
    expect(existsSync(join(dir, "onnx/model.onnx_data"))).toBe(true);
    const reference = await openRunner(loadModelFolder(dir));
    const want = await greedy(reference, PROMPT, { steps: 8 });
    await reference.release();

    const fp32 = await fuseFolder(dir, "fp32");
    const q8 = await fuseFolder(dir, "q8");
    for (const { result } of [fp32, q8]) {
      expect(result.fusion.fused).toBe(true);
      expect(result.output.dataPath).toBe(`${result.output.path}_data`);
      expect(readFileSync(result.output.path).includes(Buffer.from("model.onnx_data"))).toBe(false);
    }
    rmSync(join(dir, "onnx/model.onnx_data"));
    for (const [{ folder }, tolerance] of [
      [fp32, 1e-4],
      [q8, 0.04],
    ] as const) {
      const runner = await openRunner(folder);
      try {
        const got = await forced(runner, PROMPT, want.ids);
        const scale = Math.max(...want.logits.flatMap((l) => [...l].map(Math.abs)));
        got.forEach((l, p) => l.forEach((v, i) => expect(Math.abs(v - want.logits[p][i])).toBeLessThanOrEqual(tolerance * scale)));
      } finally {
        await runner.release();
      }
    }
  });

  it("a fused graph over the in-memory limit is verified from a temporary copy, and left as it was", async () => {
    const other = tempCopy(tinyChat);
    try {
      const loaded = readModel(join(other, "onnx/model.onnx"));
      const inMemory = await fuseLoadedModel(loaded);
      const fromFile = await fuseLoadedModel(loaded, DEFAULT_LAYOUT, 0);
      if (!("model" in inMemory) || !("model" in fromFile)) throw new Error("tiny-chat was not fused");
      expect(fromFile.outcome.verification).toEqual(inMemory.outcome.verification);
      expect(Buffer.from(encodeModel(fromFile.model)).equals(Buffer.from(encodeModel(inMemory.model)))).toBe(true);
    } finally {
      removeTempCopy(other);
    }
  });
});
