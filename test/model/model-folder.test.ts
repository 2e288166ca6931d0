/** Which ONNX file a folder serves: --dtype chooses by the transformers.js names; a missing one is a clear start-up error. */
import { copyFileSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { ModelDtype } from "../../src/config.ts";
import { loadModelFolder } from "../../src/model/model-folder.ts";
import { defaultModelPath } from "../support/fixtures.ts";

/** A copy of tiny-chat's config files with placeholder ONNX files (loading a folder never opens them). */
function optimumFolder(onnxFiles: string[]): string {
  const dir = mkdtempSync(join(tmpdir(), "model-folder-"));
  for (const f of ["config.json", "generation_config.json", "tokenizer.json", "tokenizer_config.json"]) {
    copyFileSync(join(defaultModelPath, f), join(dir, f));
  }
  mkdirSync(join(dir, "onnx"));
  for (const f of onnxFiles) writeFileSync(join(dir, "onnx", f), "");
  return dir;
}

function genaiFolder(files: string[]): string {
  const dir = mkdtempSync(join(tmpdir(), "model-folder-genai-"));
  copyFileSync(join(defaultModelPath, "tokenizer.json"), join(dir, "tokenizer.json"));
  const decoder = { filename: "decoder.onnx", num_key_value_heads: 2, head_size: 48 };
  writeFileSync(join(dir, "genai_config.json"), JSON.stringify({ model: { context_length: 512, vocab_size: 414, eos_token_id: 413, decoder } }));
  for (const f of files) writeFileSync(join(dir, f), "");
  return dir;
}

const served = (dir: string, dtype?: ModelDtype): string => loadModelFolder(dir, dtype).onnxPath.slice(dir.length + 1);

function refusal(dir: string, dtype?: ModelDtype): string {
  try {
    loadModelFolder(dir, dtype);
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error("served");
}

describe("loadModelFolder: --dtype", () => {
  it("serves each dtype's file when several sit side by side; model.onnx by default", () => {
    const dir = optimumFolder(["model.onnx", "model_fused.onnx", "model_quantized.onnx", "model_q4.onnx", "model_fp16.onnx"]);
    expect(served(dir)).toBe("onnx/model.onnx");
    expect(served(dir, "fp32-fused")).toBe("onnx/model_fused.onnx");
    expect(served(dir, "q8")).toBe("onnx/model_quantized.onnx");
    expect(served(dir, "q4")).toBe("onnx/model_q4.onnx");
    expect(loadModelFolder(dir, "q4").dtype).toBe("q4");
  });

  it("knows the merged-decoder names of older exports", () => {
    const dir = optimumFolder(["decoder_model_merged.onnx", "decoder_model_merged_quantized.onnx"]);
    expect(served(dir)).toBe("onnx/decoder_model_merged.onnx");
    expect(served(dir, "q8")).toBe("onnx/decoder_model_merged_quantized.onnx");
  });

  it("never serves another dtype silently: one line naming the file, the files the folder has, and how to make it", () => {
    const onlyQ4 = optimumFolder(["model_q4.onnx", "model_fp16.onnx"]);
    const message = refusal(onlyQ4, "fp32");
    expect(message).toContain(join(onlyQ4, "onnx"));
    expect(message).toContain("no fp32 model: expected model.onnx or decoder_model_merged.onnx");
    expect(message).toContain("the folder has model_fp16.onnx, model_q4.onnx (start with --dtype fp16)");
    expect(message).not.toContain("\n");
    const plain = optimumFolder(["model.onnx"]);
    expect(refusal(plain, "q8")).toContain("npm run optimize -- --model <folder> --dtype q8 writes it");
    expect(refusal(plain, "fp32-fused")).toContain("no fp32-fused model: expected model_fused.onnx");
    expect(refusal(plain, "fp32-fused")).toContain("npm run optimize -- --model <folder> --dtype fp32 --fuse writes it");
    expect(refusal(optimumFolder(["weights.onnx"]))).toContain("no ONNX model file of a known dtype; the folder has weights.onnx");
  });

  it("auto: model.onnx when present, else the CPU order (q4, q8, ...), or the CUDA order (fp16 first)", () => {
    const hub = optimumFolder(["model_fp16.onnx", "model_q4.onnx", "model_q4f16.onnx", "model_int8.onnx", "model_quantized.onnx", "model_bnb4.onnx"]);
    expect(served(hub)).toBe("onnx/model_q4.onnx");
    expect(loadModelFolder(hub).availableDtypes).toEqual(["fp16", "q8", "int8", "q4", "q4f16", "bnb4"]);
    expect(loadModelFolder(hub, "auto", "cuda").dtype).toBe("fp16");
    expect(served(hub, "int8")).toBe("onnx/model_int8.onnx");
    expect(served(optimumFolder(["model.onnx", "model_q4.onnx"]))).toBe("onnx/model.onnx");
    expect(served(optimumFolder(["model_uint8.onnx", "model_fp16.onnx"]))).toBe("onnx/model_uint8.onnx");
  });

  it("genai layout: fp32 is the file genai_config names, q8/q4 the optimizer's files beside it", () => {
    const dir = genaiFolder(["decoder.onnx", "model_q4.onnx"]);
    expect(served(dir)).toBe("decoder.onnx");
    expect(served(dir, "q4")).toBe("model_q4.onnx");
    expect(loadModelFolder(dir).availableDtypes).toEqual(["fp32", "q4"]);
    expect(refusal(dir, "q8")).toContain("no q8 model: expected model_quantized.onnx");
  });
});
