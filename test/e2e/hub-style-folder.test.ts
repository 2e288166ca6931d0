/**
 * A folder laid out like an onnx-community repo (no model.onnx; several
 * dtype files side by side), built from the shipped model's real files:
 * auto serves the CPU's first choice, an explicit dtype its own file, a
 * missing dtype stops the start with one line listing the files, and
 * /v1/models says which file is served.
 */
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { defaultConfig } from "../../src/config.ts";
import { OnnxEngine } from "../../src/engine/onnx-engine.ts";
import { defaultModelPath, haveDefaultModel } from "../support/fixtures.ts";
import { postJson, startLiveServer, type LiveServer } from "../support/live-server.ts";

describe.skipIf(!haveDefaultModel)("a folder like an onnx-community repo", () => {
  let dir: string;
  let server: LiveServer | undefined;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "hub-style-"));
    for (const f of ["config.json", "generation_config.json", "tokenizer.json", "tokenizer_config.json"]) copyFileSync(join(defaultModelPath, f), join(dir, f));
    mkdirSync(join(dir, "onnx"));
    for (const f of ["model_q4.onnx", "model_quantized.onnx"]) copyFileSync(join(defaultModelPath, "onnx", f), join(dir, "onnx", f));
  });
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  async function models(): Promise<Record<string, unknown>> {
    const res = await fetch(`${server!.url}/v1/models`);
    return ((await res.json()) as { data: Array<Record<string, unknown>> }).data[0];
  }

  it("auto (the default) serves q4, the CPU's first choice, and /v1/models says so", async () => {
    server = await startLiveServer(dir);
    expect(await models()).toMatchObject({ dtype: "q4", file: join("onnx", "model_q4.onnx"), layout: "optimum", context_length: 512, structured_output: true });
    const res = await postJson(`${server.url}/v1/completions`, { model: server.model, prompt: "Hello", max_tokens: 4, temperature: 0 });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { usage: { completion_tokens: number } }).usage.completion_tokens).toBeGreaterThan(0);
  });

  it("an explicit dtype serves its own file", async () => {
    server = await startLiveServer(dir, { dtype: "q8" });
    expect(await models()).toMatchObject({ dtype: "q8", file: join("onnx", "model_quantized.onnx") });
  });

  it("a dtype the folder lacks stops the start with one line listing the files it has", async () => {
    const start = OnnxEngine.create({ ...defaultConfig({ modelPath: dir, dtype: "int8", threads: 1 }), logger: pino({ level: "silent" }) });
    await expect(start).rejects.toThrow(
      `${join(dir, "onnx")}: no int8 model: expected model_int8.onnx or decoder_model_merged_int8.onnx; the folder has model_q4.onnx, model_quantized.onnx (start with --dtype q8)`,
    );
  });
});
