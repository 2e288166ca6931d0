/**
 * docs/RELIABILITY.md rows that need the real engine: huge prompts refused
 * without occupying a worker, a worker that dies mid-stream, and 200
 * requests abandoned at random points leaving zero rows behind.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fixturePath, haveFixtures } from "../support/fixtures.ts";
import { introspect } from "../support/engine.ts";
import { postJson, readSse, startLiveServer, type LiveServer } from "../support/live-server.ts";

const MODEL = fixturePath("tiny-random-LlamaForCausalLM-fp32-reconstructed");

async function until(condition: () => boolean, what: string, limitMs = 20_000): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe.skipIf(!haveFixtures)("reliability with a real engine", () => {
  let server: LiveServer;
  beforeAll(async () => {
    server = await startLiveServer(MODEL, { workers: 2, maxBatchSize: 4, maxQueue: 512 });
  });
  afterAll(() => server.close());

  const chat = (extra: Record<string, unknown> = {}): Record<string, unknown> => ({
    model: server.model,
    messages: [{ role: "user", content: "he was on it" }],
    max_tokens: 40,
    // Greedy unless a test says otherwise: a sampled row of this random-weight
    // model can draw EOS early and finish with "stop" instead of "length".
    temperature: 0,
    ...extra,
  });

  it("a 10 MB prompt is refused with context_length_exceeded before it reaches a worker", async () => {
    const huge = "he was on it ".repeat(800_000);
    const started = Date.now();
    const res = await postJson(`${server.url}/v1/chat/completions`, chat({ messages: [{ role: "user", content: huge }], stream: true }));
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe("context_length_exceeded");
    expect(body.error.message).toMatch(/at least \d+ tokens/);
    expect(body.error.message).toMatch(/2048/);
    // Still serving: a normal request right after is answered.
    const ok = await postJson(`${server.url}/v1/chat/completions`, chat({ max_tokens: 2 }));
    expect(ok.status).toBe(200);
    expect(Date.now() - started).toBeLessThan(30_000);
  });

  it("a worker that dies mid-stream fails only its own streams; it is replaced and /ready reflects it", async () => {
    const engine = server.engine;
    // Fill both workers so each holds rows, then kill one.
    const streams = await Promise.all([0, 1, 2, 3, 4, 5, 6, 7].map(() => postJson(`${server.url}/v1/chat/completions`, chat({ max_tokens: 300, stream: true }))));
    await until(() => engine.health().running >= 8, "rows on both workers");
    await introspect(engine).killWorker(0);
    const outcomes = await Promise.all(
      streams.map(async (res) => {
        const events = await readSse(res);
        expect(events.at(-1)!.raw).toBe("[DONE]");
        const last = events.at(-2)!.json!;
        return last.error ? "error" : ((last.choices as Array<{ finish_reason: string }>)[0]!.finish_reason as string);
      }),
    );
    // Sorted whole, so a failure shows every outcome rather than one count.
    expect(outcomes.sort()).toEqual(["error", "error", "error", "error", "length", "length", "length", "length"]);
    await until(() => engine.health().workersAlive === 2, "the replacement worker");
    const ready = await fetch(`${server.url}/ready`);
    expect(ready.status).toBe(200);
    const after = await postJson(`${server.url}/v1/chat/completions`, chat({ max_tokens: 3 }));
    expect(after.status).toBe(200);
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
    await until(() => server.engine.health().running === 0 && server.engine.health().queued === 0, "every abandoned row to be released");
    expect(introspect(server.engine).activeRequestIds()).toEqual([]);
    const fresh = await postJson(`${server.url}/v1/chat/completions`, chat({ max_tokens: 5 }));
    expect(fresh.status).toBe(200);
    expect(((await fresh.json()) as { usage: { completion_tokens: number } }).usage.completion_tokens).toBe(5);
  });
});
