/**
 * The shipped default model's q8 and q4 files (fused graphs made by
 * `npm run optimize -- --fuse`), served with --dtype through real HTTP and
 * the real engine: the model-load line says the graph has fused attention,
 * and concurrent, batched greedy answers through the official client are
 * the float model's (q8 exactly; q4 within the eval's measured accuracy).
 */
import { join } from "node:path";
import { Writable } from "node:stream";
import OpenAI from "openai";
import pino from "pino";
import { afterEach, describe, expect, it } from "vitest";
import type { ModelDtype } from "../../src/config.ts";
import { introspect } from "../support/engine.ts";
import { defaultModelExamples, defaultModelPath, haveDefaultModel } from "../support/fixtures.ts";
import { startLiveServer, type LiveServer } from "../support/live-server.ts";

const examples = defaultModelExamples;

/** Every JSON log line the engine writes while it loads, for asserting the model-load line. */
function capturingLogger(lines: Array<Record<string, unknown>>): pino.Logger {
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString("utf8").split("\n").filter((l) => l)) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return pino({ level: "info" }, sink);
}

describe.skipIf(!haveDefaultModel)("the default model's quantized files, served with --dtype", () => {
  let server: LiveServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  async function serve(dtype: ModelDtype): Promise<{ client: OpenAI; loaded: Record<string, unknown> }> {
    const lines: Array<Record<string, unknown>> = [];
    server = await startLiveServer(defaultModelPath, { dtype, maxBatchSize: 16, logger: capturingLogger(lines) });
    const loaded = lines.find((l) => l.msg === "model loaded");
    expect(loaded).toBeDefined();
    return { client: new OpenAI({ baseURL: `${server.url}/v1`, apiKey: "unused", maxRetries: 0 }), loaded: loaded! };
  }

  async function answers(client: OpenAI): Promise<string[]> {
    const replies = await Promise.all(
      examples().map((e) => client.chat.completions.create({ model: "tiny-chat", messages: e.messages, temperature: 0, max_tokens: 64 })),
    );
    return replies.map((r) => r.choices[0].message.content ?? "");
  }

  for (const dtype of ["q8", "q4"] as const) {
    it(`${dtype}: the load line names the file and the fused attention the probe found`, async () => {
      const { loaded } = await serve(dtype);
      expect(loaded.dtype).toBe(dtype);
      expect(loaded.onnx).toBe(join(defaultModelPath, "onnx", dtype === "q8" ? "model_quantized.onnx" : "model_q4.onnx"));
      expect(loaded.batchPlacement).toBe("in-place");
      expect(String(loaded.kvHandling)).toMatch(/^fused attention \(GroupQueryAttention\).*returns only the new positions/);
      expect(introspect(server!.engine).modelInfo.kvHandling).toBe(loaded.kvHandling);
    });
  }

  it("fp32 (the plain export): the load line says plain attention", async () => {
    const { loaded } = await serve("fp32");
    expect(loaded.batchPlacement).toBe("appended");
    expect(String(loaded.kvHandling)).toMatch(/^plain attention/);
  });

  it("q8: every example answered exactly as expected, concurrently in one batch", async () => {
    const { client } = await serve("q8");
    const expected = examples().map((e) => e.answer);
    expect(await answers(client)).toEqual(expected);
  });

  it("q4: the examples answered as expected but for at most one (the eval measures q4 at 736/750 against fp32's 734)", async () => {
    const { client } = await serve("q4");
    const got = await answers(client);
    const wrong = examples().filter((e, i) => got[i] !== e.answer);
    expect(wrong.length, JSON.stringify(wrong.map((e) => e.messages[0].content))).toBeLessThanOrEqual(1);
  });
});
