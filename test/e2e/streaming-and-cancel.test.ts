/**
 * End to end: real HTTP through the real Fastify app, the shipped tiny-chat
 * model in a real worker thread. Streaming shapes, streamed == non-streamed,
 * the stop endpoint in decode / while queued / after finish, and a client
 * that disconnects mid-stream.
 */
import { request as httpRequest } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eosBan, tinyChat } from "../support/fixtures.ts";
import { introspect } from "../support/engine.ts";
import { postJson, readSse, startLiveServer, until, whenReleased, type LiveServer } from "../support/live-server.ts";
import { parsePrometheusText, sampleValue } from "../support/prometheus-text.ts";

/** Long enough that a row cut short by a cancel or a disconnect is far from it; prompt + 450 fits the 512 context. */
const LONG = 450;

describe("streaming chat over HTTP with a real model", () => {
  let server: LiveServer;
  beforeAll(async () => {
    server = await startLiveServer(tinyChat, { maxBatchSize: 2 });
  });
  afterAll(() => server.close());

  const chat = (extra: Record<string, unknown> = {}): Record<string, unknown> => ({
    model: server.model,
    messages: [{ role: "user", content: "What is 123 + 456?" }],
    max_tokens: 12,
    // Greedy unless a test says otherwise, and EOS banned: every row runs
    // exactly to max_tokens whatever the model would answer.
    temperature: 0,
    logit_bias: eosBan(tinyChat),
    ...extra,
  });

  /** The usage the stop endpoint reports for a request, once it has finished. */
  const finishedUsage = async (id: string): Promise<{ completion_tokens: number }> => {
    const res = await postJson(`${server.url}/v1/chat/completions/${id}/cancel`, {});
    const body = (await res.json()) as { status: string; usage: { completion_tokens: number } };
    expect(body.status).toBe("already_finished");
    return body.usage;
  };

  it("streams chunks in the docs/API.md shape and matches the non-streamed answer for the same seed", async () => {
    const body = chat({ temperature: 0.9, top_p: 0.95, seed: 1234 });
    const res = await postJson(`${server.url}/v1/chat/completions`, { ...body, stream: true, stream_options: { include_usage: true } });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/event-stream/);
    const events = await readSse(res);
    expect(events.at(-1)!.raw).toBe("[DONE]");
    const chunks = events.slice(0, -1).map((e) => e.json!);
    const { id, created, model } = chunks[0] as { id: string; created: number; model: string };
    expect(id).toMatch(/^chatcmpl-/);
    expect(res.headers.get("x-request-id")).toBe(id);
    for (const c of chunks) expect(c).toMatchObject({ id, object: "chat.completion.chunk", created, model });
    expect(chunks[0].choices).toEqual([{ index: 0, delta: { role: "assistant", content: "" }, logprobs: null, finish_reason: null }]);
    const usageChunk = chunks.at(-1)!;
    expect(usageChunk.choices).toEqual([]);
    const finish = chunks.at(-2)! as { choices: Array<{ delta: object; finish_reason: string }> };
    expect(finish.choices[0].delta).toEqual({});
    expect(finish.choices[0].finish_reason).toBe("length");
    const content = chunks.slice(1, -2) as Array<{ choices: Array<{ delta: { content: string }; finish_reason: null }> }>;
    expect(content.length).toBeGreaterThan(0);
    const streamed = content.map((c) => c.choices[0].delta.content).join("");

    const plain = await postJson(`${server.url}/v1/chat/completions`, body);
    const answer = (await plain.json()) as { choices: Array<{ message: { content: string }; finish_reason: string }>; usage: object };
    expect(answer.choices[0].message.content).toBe(streamed);
    expect(answer.choices[0].finish_reason).toBe("length");
    expect(answer.usage).toEqual(usageChunk.usage);
    expect(usageChunk.usage).toMatchObject({ completion_tokens: 12 });
  });

  it("the stop endpoint ends a stream within one step: finish_reason cancelled, usage, [DONE]", async () => {
    const res = await postJson(`${server.url}/v1/chat/completions`, chat({ max_tokens: LONG, stream: true, stream_options: { include_usage: true } }));
    let id = "";
    let released: Promise<void> | null = null;
    let cancelBody: Record<string, unknown> | null = null;
    let contentAfterCancel = 0;
    let cancelled = false;
    const events = await readSse(res, async (e, i) => {
      if (i === 0) {
        id = e.json!.id as string;
        released = whenReleased(server.engine, id);
      }
      const delta = (e.json?.choices as Array<{ delta?: { content?: string } }> | undefined)?.[0]?.delta;
      if (cancelled && delta?.content) contentAfterCancel++;
      if (i === 3 && !cancelled) {
        cancelled = true;
        const r = await postJson(`${server.url}/v1/chat/completions/${id}/cancel`, {});
        expect(r.status).toBe(200);
        cancelBody = (await r.json()) as Record<string, unknown>;
      }
    });
    expect(cancelBody).toMatchObject({ id, object: "chat.completion.cancellation", status: "cancelled" });
    // Chunks already on the wire when the cancel landed may still be read after it, but no token
    // is generated after it: the stream's final usage equals the usage the cancel reported, and
    // every content chunk read after the cancel is one of those tokens.
    const cancelledAt = (cancelBody as unknown as { usage: { completion_tokens: number } }).usage.completion_tokens;
    expect(contentAfterCancel).toBeLessThanOrEqual(cancelledAt - 3);
    const chunks = events.slice(0, -1).map((e) => e.json!);
    expect(events.at(-1)!.raw).toBe("[DONE]");
    expect((chunks.at(-2)!.choices as Array<{ finish_reason: string }>)[0].finish_reason).toBe("cancelled");
    expect(chunks.at(-1)!.usage).toEqual((cancelBody as unknown as { usage: object }).usage);
    expect(cancelledAt).toBeLessThan(LONG);
    await released;
    // /metrics timed the row's way out, in seconds and in steps.
    const metrics = parsePrometheusText(await (await fetch(`${server.url}/metrics`)).text());
    expect(sampleValue(metrics, "onnx_server_release_seconds_count")).toBeGreaterThanOrEqual(1);
    expect(sampleValue(metrics, "onnx_server_release_steps", { quantile: "0.99" })).toBeGreaterThan(0);
    const again = await postJson(`${server.url}/v1/chat/completions/${id}/cancel`, {});
    expect(await again.json()).toMatchObject({ id, status: "already_finished" });
    const unknown = await postJson(`${server.url}/v1/chat/completions/chatcmpl-unknown/cancel`, {});
    expect(unknown.status).toBe(404);
    expect(((await unknown.json()) as { error: { code: string } }).error.code).toBe("not_found");
  });

  it("a queued non-streaming request is cancelled by its X-Request-Id and answers 200 with finish_reason cancelled", async () => {
    const blockers = [1, 2].map(() => postJson(`${server.url}/v1/chat/completions`, chat({ max_tokens: LONG, stream: true })));
    const blockerResponses = await Promise.all(blockers);
    // Both rows of the worker are busy until the blockers are cancelled below: wait (on the
    // engine's state, not the clock) until they hold the rows, then until the third is queued.
    await until(() => server.engine.health().running === 2);
    const queued = postJson(`${server.url}/v1/chat/completions`, chat({ max_tokens: 5 }), { "x-request-id": "queued-one" });
    await until(() => server.engine.health().queued === 1);
    const cancel = await postJson(`${server.url}/v1/chat/completions/queued-one/cancel`, {});
    expect(await cancel.json()).toMatchObject({ status: "cancelled", usage: { completion_tokens: 0 } });
    const res = await queued;
    expect(res.status).toBe(200);
    const body = (await res.json()) as { choices: Array<{ finish_reason: string; message: { content: string } }>; usage: { completion_tokens: number } };
    expect(body.choices[0].finish_reason).toBe("cancelled");
    expect(body.usage.completion_tokens).toBe(0);
    for (const r of blockerResponses) {
      const id = r.headers.get("x-request-id")!;
      const released = whenReleased(server.engine, id);
      const stopped = (await (await postJson(`${server.url}/v1/chat/completions/${id}/cancel`, {})).json()) as { status: string };
      // Still running when cancelled: they held the rows the whole time the third one waited.
      expect(stopped.status).toBe("cancelled");
      const events = await readSse(r);
      expect((events.at(-2)!.json!.choices as Array<{ finish_reason: string }>)[0].finish_reason).toBe("cancelled");
      await released;
    }
  });

  it("a socket destroyed mid-stream makes the engine drop the row", async () => {
    const payload = JSON.stringify(chat({ max_tokens: LONG, stream: true }));
    const id = await new Promise<string>((resolve, reject) => {
      const req = httpRequest(`${server.url}/v1/chat/completions`, { method: "POST", headers: { "content-type": "application/json" } }, (res) => {
        const requestId = res.headers["x-request-id"] as string;
        let frames = 0;
        res.on("data", (chunk: Buffer) => {
          frames += chunk.toString().split("\n\n").length - 1;
          if (frames >= 3) {
            // Register before destroying so the release cannot be missed.
            const released = whenReleased(server.engine, requestId);
            req.destroy();
            released.then(() => resolve(requestId), reject);
          }
        });
      });
      req.on("error", () => undefined);
      req.end(payload);
    });
    expect(introspect(server.engine).activeRequestIds()).not.toContain(id);
    expect(server.engine.health().running).toBe(0);
    // Dropped, not finished: EOS is banned, so only the disconnect can have ended it this far from max_tokens.
    expect((await finishedUsage(id)).completion_tokens).toBeLessThan(LONG / 2);
  });

  it("a prompt that does not fit is refused with context_length_exceeded before any SSE byte", async () => {
    const res = await postJson(`${server.url}/v1/chat/completions`, chat({ max_tokens: 600, stream: true }));
    expect(res.status).toBe(400);
    expect(res.headers.get("content-type")).toMatch(/json/);
    const body = (await res.json()) as { error: { code: string; message: string; param: string } };
    expect(body.error.code).toBe("context_length_exceeded");
    expect(body.error.message).toMatch(/\b512\b/);
    expect(body.error.message).toMatch(/\b600\b/);
  });
});
