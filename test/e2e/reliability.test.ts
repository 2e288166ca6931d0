/**
 * docs/RELIABILITY.md rows that need the real engine: huge prompts refused
 * without occupying a worker, a worker that dies mid-stream, and 200
 * requests abandoned at random points leaving zero rows behind. The shipped
 * tiny-chat model; rows are greedy with EOS banned, so each runs exactly to
 * its max_tokens unless something ends it.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eosBan, tinyChat } from "../support/fixtures.ts";
import { introspect } from "../support/engine.ts";
import { postJson, readSse, startLiveServer, until, type LiveServer } from "../support/live-server.ts";
import { registrySample } from "../support/prometheus-text.ts";

describe("reliability with a real engine", () => {
  let server: LiveServer;
  beforeAll(async () => {
    server = await startLiveServer(tinyChat, { workers: 2, maxBatchSize: 4, maxQueue: 512 });
  });
  afterAll(() => server.close());

  const chat = (extra: Record<string, unknown> = {}): Record<string, unknown> => ({
    model: server.model,
    messages: [{ role: "user", content: "What is 123 + 456?" }],
    max_tokens: 40,
    temperature: 0,
    logit_bias: eosBan(tinyChat),
    ...extra,
  });

  it("a 10 MB prompt is refused with context_length_exceeded before it reaches a worker", async () => {
    const huge = "What is 123 + 456? ".repeat(550_000);
    expect(huge.length).toBeGreaterThan(10_000_000);
    const generated = (): Promise<number> => registrySample(server.engine.metricsRegistry, "onnx_server_generation_tokens_total");
    const generatedBefore = await generated();
    const res = await postJson(`${server.url}/v1/chat/completions`, chat({ messages: [{ role: "user", content: huge }], stream: true }));
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe("context_length_exceeded");
    // Counted from its length, not tokenized: no worker spent time on it.
    expect(body.error.message).toMatch(/at least \d+ tokens/);
    expect(body.error.message).toMatch(/before tokenizing/);
    expect(body.error.message).toMatch(/\b512\b/);
    expect(server.engine.health()).toMatchObject({ running: 0, queued: 0 });
    expect(introspect(server.engine).activeRequestIds()).toEqual([]);
    expect(await generated()).toBe(generatedBefore);
    // Still serving: a normal request right after is answered.
    const ok = await postJson(`${server.url}/v1/chat/completions`, chat({ max_tokens: 2 }));
    expect(ok.status).toBe(200);
  });

  it("a worker that dies mid-stream fails only its own streams; it is replaced and /ready reflects it", async () => {
    const engine = server.engine;
    // Fill both workers so each holds rows (450 tokens: far more than it takes to kill one), then kill one.
    const streams = await Promise.all([0, 1, 2, 3, 4, 5, 6, 7].map(() => postJson(`${server.url}/v1/chat/completions`, chat({ max_tokens: 450, stream: true }))));
    await until(() => engine.health().running >= 8);
    await introspect(engine).killWorker(0);
    const outcomes = await Promise.all(
      streams.map(async (res) => {
        const events = await readSse(res);
        expect(events.at(-1)!.raw).toBe("[DONE]");
        const last = events.at(-2)!.json!;
        return last.error ? "error" : ((last.choices as Array<{ finish_reason: string }>)[0].finish_reason as string);
      }),
    );
    // Sorted whole, so a failure shows every outcome rather than one count.
    expect(outcomes.sort()).toEqual(["error", "error", "error", "error", "length", "length", "length", "length"]);
    await until(() => engine.health().workersAlive === 2);
    expect(await registrySample(engine.metricsRegistry, "onnx_server_worker_restarts_total")).toBe(1);
    const ready = await fetch(`${server.url}/ready`);
    expect(ready.status).toBe(200);
    const after = await postJson(`${server.url}/v1/chat/completions`, chat({ max_tokens: 3 }));
    expect(after.status).toBe(200);
    expect(((await after.json()) as { usage: { completion_tokens: number } }).usage.completion_tokens).toBe(3);
  });

  it("200 requests abandoned at random points leave zero rows, and a fresh request is served", async () => {
    let seed = 42;
    const random = (): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const abandon = async (i: number): Promise<void> => {
      const controller = new AbortController();
      const mode = Math.floor(random() * 4);
      const stream = i % 3 !== 0;
      const res = postJson(`${server.url}/v1/chat/completions`, chat({ max_tokens: 20 + Math.floor(random() * 200), stream }), {}, controller.signal);
      try {
        if (mode === 0) {
          controller.abort(); // before the response (possibly while queued)
          await res;
          return;
        }
        const response = await res;
        if (mode === 1 || !stream) {
          controller.abort(); // after the headers
          return;
        }
        const stopAfter = mode === 2 ? 1 : 2 + Math.floor(random() * 10);
        let seen = 0;
        for await (const _ of response.body as unknown as AsyncIterable<Uint8Array>) if (++seen >= stopAfter) break;
        controller.abort();
      } catch {
        // Aborted fetches reject; that is the point.
      }
    };
    await Promise.all(Array.from({ length: 200 }, (_, i) => abandon(i)));
    await until(() => server.engine.health().running === 0 && server.engine.health().queued === 0);
    expect(introspect(server.engine).activeRequestIds()).toEqual([]);
    const fresh = await postJson(`${server.url}/v1/chat/completions`, chat({ max_tokens: 5 }));
    expect(fresh.status).toBe(200);
    expect(((await fresh.json()) as { usage: { completion_tokens: number } }).usage.completion_tokens).toBe(5);
  });
});
