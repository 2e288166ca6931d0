/** Which files a pull fetches, from a listing alone. */
import { describe, expect, it } from "vitest";
import { externalDataOf, planPull } from "../../src/hub/pull-plan.ts";
import type { RepoFile } from "../../src/hub/repo-listing.ts";

const file = (path: string): RepoFile => ({ path, size: 1, gitOid: "0".repeat(40), lfsSha256: path.includes(".onnx") ? "1".repeat(64) : null });
const listing = (...paths: string[]): RepoFile[] => paths.map(file);
const paths = (files: RepoFile[]): string[] => files.map((f) => f.path);

const OPTIMUM = ["README.md", "config.json", "generation_config.json", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "chat_template.jinja", "merges.txt"];

describe("planPull", () => {
  it("auto takes model.onnx when there is one, else the device's order", () => {
    const all = listing(...OPTIMUM, "onnx/model.onnx", "onnx/model_q4.onnx", "onnx/model_fp16.onnx", "onnx/model_quantized.onnx");
    expect(planPull(all, { dtype: "auto", device: "cpu" }, null, "r").onnxFile).toBe("onnx/model.onnx");
    const noFp32 = all.filter((f) => f.path !== "onnx/model.onnx");
    expect(planPull(noFp32, { dtype: "auto", device: "cpu" }, null, "r")).toMatchObject({ dtype: "q4", onnxFile: "onnx/model_q4.onnx" });
    expect(planPull(noFp32, { dtype: "auto", device: "cuda" }, null, "r")).toMatchObject({ dtype: "fp16", onnxFile: "onnx/model_fp16.onnx" });
  });

  it("fetches the serving files that are there, the ONNX file and its external data, nothing else", () => {
    const all = listing(...OPTIMUM, "onnx/model_q4.onnx", "onnx/model_q4.onnx_data", "onnx/model_q4.onnx_data_1", "onnx/model_q4f16.onnx", "onnx/model_q4f16.onnx_data", "onnx/model.onnx");
    const plan = planPull(all, { dtype: "q4", device: "cpu" }, null, "r");
    expect(paths(plan.files)).toEqual([
      "config.json",
      "generation_config.json",
      "tokenizer.json",
      "tokenizer_config.json",
      "special_tokens_map.json",
      "chat_template.jinja",
      "onnx/model_q4.onnx",
      "onnx/model_q4.onnx_data",
      "onnx/model_q4.onnx_data_1",
    ]);
  });

  it("an older Optimum export's decoder_model_merged files", () => {
    const plan = planPull(listing(...OPTIMUM, "onnx/decoder_model_merged_quantized.onnx", "onnx/decoder_model_merged.onnx"), { dtype: "q8", device: "cpu" }, null, "r");
    expect(plan.onnxFile).toBe("onnx/decoder_model_merged_quantized.onnx");
  });

  it("external data: every exporter's naming, in the ONNX file's folder only", () => {
    const all = listing("onnx/model.onnx", "onnx/model.onnx_data", "onnx/model.onnx.data", "onnx/model.onnx_data_2", "model.onnx_data", "onnx/model.onnx2", "onnx/model_fp16.onnx_data");
    expect(paths(externalDataOf("onnx/model.onnx", all))).toEqual(["onnx/model.onnx.data", "onnx/model.onnx_data", "onnx/model.onnx_data_2"]);
    expect(paths(externalDataOf("model.onnx", all))).toEqual(["model.onnx_data"]);
  });

  it("genai: the decoder file for fp32 and auto, the dtype names at the root otherwise", () => {
    const all = listing("genai_config.json", "tokenizer.json", "tokenizer_config.json", "phi.onnx", "phi.onnx.data", "model_q4.onnx");
    const auto = planPull(all, { dtype: "auto", device: "cpu" }, "phi.onnx", "r");
    expect(auto).toMatchObject({ layout: "genai", dtype: "fp32", onnxFile: "phi.onnx" });
    expect(paths(auto.files)).toEqual(["tokenizer.json", "tokenizer_config.json", "genai_config.json", "phi.onnx", "phi.onnx.data"]);
    expect(planPull(all, { dtype: "q4", device: "cpu" }, "phi.onnx", "r").onnxFile).toBe("model_q4.onnx");
    expect(() => planPull(all, { dtype: "auto", device: "cpu" }, "gone.onnx", "r")).toThrow(
      "r: genai_config.json names gone.onnx (model.decoder.filename), which the repo does not have; its ONNX files: model_q4.onnx, phi.onnx",
    );
    expect(() => planPull(all, { dtype: "auto", device: "cpu" }, "../x.onnx", "r")).toThrow('model.decoder.filename must be a file name, got "../x.onnx"');
  });

  it("refuses what the server could not serve, saying what the repo has", () => {
    expect(() => planPull(listing("README.md", "model.safetensors"), { dtype: "auto", device: "cpu" }, null, "o/n@main")).toThrow(
      "o/n@main has neither config.json nor genai_config.json at its root: not a model folder this server can serve; it has no .onnx file",
    );
    expect(() => planPull(listing("config.json", "onnx/model.onnx"), { dtype: "auto", device: "cpu" }, null, "o/n@main")).toThrow(
      "o/n@main has no tokenizer.json (the server needs a Hugging Face tokenizer.json)",
    );
    expect(() => planPull(listing("config.json", "tokenizer.json", "model.onnx"), { dtype: "auto", device: "cpu" }, null, "o/n@main")).toThrow(
      "o/n@main has no ONNX model file of a known dtype; its ONNX files: model.onnx",
    );
  });
});
