/** SSE framing per docs/API.md "Streaming", non-streamed collection, cancel responses and X-Request-Id. */
import { afterAll, describe, expect, it } from "vitest";
import type { TokenLogprob } from "../../src/domain.ts";
import type { TokenEvent } from "../../src/engine/engine.ts";
import { ApiError } from "../../src/errors.ts";
import { USAGE, WIRE_USAGE, type EventScript } from "./fake-engine.ts";
import { chatBody, completionBody, makeApp, sseData } from "./helpers.ts";

const { app, engine } = makeApp();
afterAll(() => app.close());

function scripted(events: TokenEvent[]): EventScript {
  return async function* () {
    yield* events;
  };
}

async function stream(url: string, body: Record<string, unknown>) {
  const res = await app.inject({ method: "POST", url, payload: body });
  expect(res.statusCode).toBe(200);
  expect(res.headers["content-type"]).toBe("text/event-stream; charset=utf-8");
  expect(res.headers["cache-control"]).toBe("no-cache");
  expect(res.headers["x-accel-buffering"]).toBe("no");
  const data = sseData(res.body);
  expect(data.at(-1)).toBe("[DONE]");
  return { res, chunks: data.slice(0, -1).map((d) => JSON.parse(d) as Record<string, unknown>) };
}

describe("chat stream", () => {
  it("role chunk, content chunks, finish chunk, usage chunk, [DONE]; same identity on every chunk", async () => {
    engine.script = scripted([
      { type: "delta", index: 0, text: "Hel" },
      { type: "delta", index: 0, text: "lo" },
      { type: "finish", index: 0, finishReason: "length" },
      { type: "end", usage: USAGE },
    ]);
    const { res, chunks } = await stream("/v1/chat/completions", chatBody({ stream: true, stream_options: { include_usage: true } }));
    const id = res.headers["x-request-id"] as string;
    expect(id).toMatch(/^chatcmpl-[A-Za-z0-9_-]+$/);
    expect(engine.starts.at(-1)?.options.id).toBe(id);
    const created = chunks[0].created as number;
    expect(Number.isInteger(created)).toBe(true);
    const identity = { id, object: "chat.completion.chunk", created, model: "tiny-chat", system_fingerprint: null };
    expect(chunks).toEqual([
      { ...identity, usage: null, choices: [{ index: 0, delta: { role: "assistant", content: "" }, logprobs: null, finish_reason: null }] },
      { ...identity, usage: null, choices: [{ index: 0, delta: { content: "Hel" }, logprobs: null, finish_reason: null }] },
      { ...identity, usage: null, choices: [{ index: 0, delta: { content: "lo" }, logprobs: null, finish_reason: null }] },
      { ...identity, usage: null, choices: [{ index: 0, delta: {}, logprobs: null, finish_reason: "length" }] },
      { ...identity, usage: WIRE_USAGE, choices: [] },
    ]);
  });

  it("without include_usage there is no usage chunk and no usage key", async () => {
    engine.script = scripted([
      { type: "delta", index: 0, text: "x" },
      { type: "finish", index: 0, finishReason: "stop" },
      { type: "end", usage: USAGE },
    ]);
    const { chunks } = await stream("/v1/chat/completions", chatBody({ stream: true }));
    expect(chunks).toHaveLength(3);
    for (const chunk of chunks) expect(chunk).not.toHaveProperty("usage");
  });

  it("n > 1: one role chunk per choice before any token", async () => {
    engine.script = scripted([
      { type: "delta", index: 1, text: "b" },
      { type: "delta", index: 0, text: "a" },
      { type: "finish", index: 1, finishReason: "stop" },
      { type: "finish", index: 0, finishReason: "stop" },
      { type: "end", usage: USAGE },
    ]);
    const { chunks } = await stream("/v1/chat/completions", chatBody({ stream: true, n: 2 }));
    const firstChoices = chunks.slice(0, 2).map((c) => (c.choices as Array<{ index: number; delta: unknown }>)[0]);
    expect(firstChoices).toEqual([
      expect.objectContaining({ index: 0, delta: { role: "assistant", content: "" } }),
      expect.objectContaining({ index: 1, delta: { role: "assistant", content: "" } }),
    ]);
    expect(engine.starts.at(-1)?.request.n).toBe(2);
  });

  it("an error mid-stream is one error event, then [DONE]", async () => {
    engine.script = scripted([
      { type: "delta", index: 0, text: "partial" },
      { type: "error", error: new ApiError(500, "server_error", "The worker running this request failed.") },
    ]);
    const { chunks } = await stream("/v1/chat/completions", chatBody({ stream: true }));
    expect(chunks).toHaveLength(3);
    expect(chunks[2]).toEqual({
      error: { message: "The worker running this request failed.", type: "server_error", param: null, code: null },
    });
  });

  it("an engine bug mid-stream is an error event with the message hidden", async () => {
    engine.script = async function* () {
      yield { type: "delta", index: 0, text: "x" } as TokenEvent;
      throw new Error("secret stack detail");
    };
    const { res, chunks } = await stream("/v1/chat/completions", chatBody({ stream: true }));
    expect(res.body).not.toContain("secret");
    expect((chunks.at(-1) as { error: { type: string } }).error.type).toBe("server_error");
  });

  it("logprobs ride on the content chunk", async () => {
    const lp: TokenLogprob = { token: "Hi", logprob: -0.5, top: [{ token: "Hi", logprob: -0.5 }] };
    engine.script = scripted([
      { type: "delta", index: 0, text: "Hi", logprobs: [lp] },
      { type: "finish", index: 0, finishReason: "stop" },
      { type: "end", usage: USAGE },
    ]);
    const { chunks } = await stream("/v1/chat/completions", chatBody({ stream: true, logprobs: true, top_logprobs: 1 }));
    expect((chunks[1].choices as Array<{ logprobs: unknown }>)[0].logprobs).toEqual({
      content: [{ token: "Hi", logprob: -0.5, bytes: [72, 105], top_logprobs: [{ token: "Hi", logprob: -0.5, bytes: [72, 105] }] }],
      refusal: null,
    });
    expect(engine.starts.at(-1)?.request.logprobs).toBe(1);
  });
});

describe("completions stream", () => {
  it("text chunks with logprobs offsets, finish chunk, usage, [DONE]; no role chunk", async () => {
    const lp = (token: string): TokenLogprob => ({ token, logprob: -1, top: [{ token, logprob: -1 }] });
    engine.script = scripted([
      { type: "delta", index: 0, text: "ab", logprobs: [lp("a"), lp("b")] },
      { type: "delta", index: 0, text: "cd", logprobs: [lp("cd")] },
      { type: "finish", index: 0, finishReason: "stop" },
      { type: "end", usage: USAGE },
    ]);
    const { res, chunks } = await stream("/v1/completions", completionBody({ stream: true, logprobs: 1, stream_options: { include_usage: true } }));
    const id = res.headers["x-request-id"] as string;
    expect(id).toMatch(/^cmpl-/);
    const identity = { id, object: "text_completion", created: chunks[0].created, model: "tiny-chat", system_fingerprint: null };
    expect(chunks).toEqual([
      {
        ...identity,
        usage: null,
        choices: [
          {
            index: 0,
            text: "ab",
            logprobs: { tokens: ["a", "b"], token_logprobs: [-1, -1], top_logprobs: [{ a: -1 }, { b: -1 }], text_offset: [0, 1] },
            finish_reason: null,
          },
        ],
      },
      {
        ...identity,
        usage: null,
        choices: [
          { index: 0, text: "cd", logprobs: { tokens: ["cd"], token_logprobs: [-1], top_logprobs: [{ cd: -1 }], text_offset: [2] }, finish_reason: null },
        ],
      },
      { ...identity, usage: null, choices: [{ index: 0, text: "", logprobs: null, finish_reason: "stop" }] },
      { ...identity, usage: WIRE_USAGE, choices: [] },
    ]);
  });
});

describe("non-streamed", () => {
  it("chat collects text per choice, finish_reason and usage", async () => {
    engine.script = scripted([
      { type: "delta", index: 1, text: "B" },
      { type: "delta", index: 0, text: "A" },
      { type: "delta", index: 0, text: "a" },
      { type: "finish", index: 0, finishReason: "cancelled" },
      { type: "finish", index: 1, finishReason: "length" },
      { type: "end", usage: USAGE },
    ]);
    const res = await app.inject({ method: "POST", url: "/v1/chat/completions", payload: chatBody({ n: 2 }) });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body).toEqual({
      id: res.headers["x-request-id"],
      object: "chat.completion",
      created: expect.any(Number),
      model: "tiny-chat",
      system_fingerprint: null,
      usage: WIRE_USAGE,
      choices: [
        { index: 0, message: { role: "assistant", content: "Aa", refusal: null }, logprobs: null, finish_reason: "cancelled" },
        { index: 1, message: { role: "assistant", content: "B", refusal: null }, logprobs: null, finish_reason: "length" },
      ],
    });
  });

  it("completion with logprobs", async () => {
    const lp: TokenLogprob = { token: "x", logprob: -2, top: [] };
    engine.script = scripted([
      { type: "delta", index: 0, text: "x", logprobs: [lp] },
      { type: "finish", index: 0, finishReason: "stop" },
      { type: "end", usage: USAGE },
    ]);
    const res = await app.inject({ method: "POST", url: "/v1/completions", payload: completionBody({ logprobs: 0 }) });
    expect(res.json().choices).toEqual([
      { index: 0, text: "x", logprobs: { tokens: ["x"], token_logprobs: [-2], top_logprobs: [{}], text_offset: [0] }, finish_reason: "stop" },
    ]);
    expect(res.json().object).toBe("text_completion");
  });

  it("an error event before the answer is a normal error response", async () => {
    engine.script = scripted([{ type: "error", error: new ApiError(503, "server_error", "Worker died.", { retryAfter: 3 }) }]);
    const res = await app.inject({ method: "POST", url: "/v1/chat/completions", payload: chatBody() });
    expect(res.statusCode).toBe(503);
    expect(res.headers["retry-after"]).toBe("3");
  });
});

describe("cancel endpoint", () => {
  it("returns the cancellation object for chat and completions, passing the owner", async () => {
    const usage = { promptTokens: 3, completionTokens: 1, totalTokens: 4 };
    const wireUsage = { prompt_tokens: 3, completion_tokens: 1, total_tokens: 4 };
    engine.cancelResult = (id) => (id === "done" ? { id, status: "already_finished", usage } : { id, status: "cancelled", usage });
    const chat = await app.inject({ method: "POST", url: "/v1/chat/completions/chatcmpl-abc/cancel" });
    expect(chat.statusCode).toBe(200);
    expect(chat.json()).toEqual({ id: "chatcmpl-abc", object: "chat.completion.cancellation", status: "cancelled", usage: wireUsage });
    const text = await app.inject({
      method: "POST",
      url: "/v1/completions/done/cancel",
      headers: { "content-type": "application/json" },
      payload: "",
    });
    expect(text.statusCode).toBe(200);
    expect(text.json()).toEqual({ id: "done", object: "text_completion.cancellation", status: "already_finished", usage: wireUsage });
    const withBody = await app.inject({ method: "POST", url: "/v1/completions/x/cancel", payload: {} });
    expect(withBody.statusCode).toBe(200);
    expect(engine.cancels.at(-1)).toEqual({ id: "x", owner: undefined });
    engine.cancelResult = () => null;
  });
});

describe("X-Request-Id", () => {
  it("the client's id is passed to the engine and echoed unchanged in the response; the body has the completion id", async () => {
    engine.script = scripted([{ type: "end", usage: USAGE }]);
    const res = await app.inject({
      method: "POST",
      url: "/v1/chat/completions",
      payload: chatBody(),
      headers: { "x-request-id": "my-id_1.2:3" },
    });
    expect(res.statusCode).toBe(200);
    expect(engine.starts.at(-1)?.options.clientRequestId).toBe("my-id_1.2:3");
    expect(res.headers["x-request-id"]).toBe("my-id_1.2:3");
    expect(res.json().id).toBe(engine.starts.at(-1)?.options.id);
    expect(res.json().id).toMatch(/^chatcmpl-/);
  });

  it("no client id: clientRequestId is undefined and the response header is the completion id", async () => {
    engine.script = scripted([{ type: "end", usage: USAGE }]);
    const res = await app.inject({ method: "POST", url: "/v1/completions", payload: completionBody() });
    expect(engine.starts.at(-1)?.options.clientRequestId).toBeUndefined();
    expect(res.headers["x-request-id"]).toMatch(/^cmpl-/);
    expect(res.json().id).toBe(res.headers["x-request-id"]);
  });

  // What gateways and tracers send: AWS X-Ray, a braced GUID, W3C traceparent, nginx $request_id, every visible ASCII character, the longest.
  const gatewayIds = [
    "Root=1-5f84c7a1-1c2b3d4e5f60718293a4b5c6;Parent=53995c3f42cd8ad8;Sampled=1",
    "{3f2a9c1e-7b4d-4e8a-9f10-2c3d4e5f6a7b}",
    "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
    "f3a1c2d4e5b6a7980f1e2d3c4b5a6978",
    Array.from({ length: 0x7e - 0x21 + 1 }, (_, i) => String.fromCharCode(0x21 + i)).join(""),
    "x".repeat(256),
  ];
  for (const id of gatewayIds) {
    it(`a gateway id ${JSON.stringify(id.slice(0, 24))}… (${id.length} chars) is accepted, echoed, and cancels`, async () => {
      engine.script = scripted([{ type: "end", usage: USAGE }]);
      const res = await app.inject({ method: "POST", url: "/v1/chat/completions", payload: chatBody(), headers: { "x-request-id": id } });
      expect(res.statusCode).toBe(200);
      expect(res.headers["x-request-id"]).toBe(id);
      expect(engine.starts.at(-1)?.options.clientRequestId).toBe(id);
      engine.cancelResult = (handle) => (handle === id ? { id: "chatcmpl-x", status: "already_finished", usage: USAGE } : null);
      const cancel = await app.inject({ method: "POST", url: `/v1/chat/completions/${encodeURIComponent(id)}/cancel` });
      engine.cancelResult = () => null;
      expect(cancel.statusCode).toBe(200);
      expect(engine.cancels.at(-1)?.id).toBe(id);
    });
  }

  it("the client's id is echoed on errors too (404 model, 404 cancel), never replaced", async () => {
    const wrongModel = await app.inject({ method: "POST", url: "/v1/chat/completions", payload: chatBody({ model: "nope" }), headers: { "x-request-id": "{gw-1}" } });
    expect(wrongModel.statusCode).toBe(404);
    expect(wrongModel.headers["x-request-id"]).toBe("{gw-1}");
    const unknown = await app.inject({ method: "POST", url: "/v1/chat/completions/whatever/cancel", headers: { "x-request-id": "Root=1-2;Sampled=0" } });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.headers["x-request-id"]).toBe("Root=1-2;Sampled=0");
  });

  for (const bad of ["", "has space", "x".repeat(257), "tab\there", "ünï", "a, b"]) {
    it(`malformed client id ${JSON.stringify(bad.slice(0, 20))} -> 400`, async () => {
      const before = engine.starts.length;
      const res = await app.inject({
        method: "POST",
        url: "/v1/chat/completions",
        payload: chatBody(),
        headers: { "x-request-id": Buffer.from(bad, "utf8").toString("latin1") },
      });
      expect(res.statusCode).toBe(400);
      expect(res.json().error.param).toBe("X-Request-Id");
      expect(res.json().error.message).toMatch(/1 to 256 visible ASCII characters/);
      // Bad bytes are never echoed: the header is the completion id.
      expect(res.headers["x-request-id"]).toMatch(/^chatcmpl-/);
      expect(engine.starts.length).toBe(before);
    });
  }
});

describe("models and health", () => {
  it("GET /v1/models and /v1/models/{id}", async () => {
    const list = await app.inject({ method: "GET", url: "/v1/models" });
    expect(list.json()).toEqual({ object: "list", data: [{ id: "tiny-chat", object: "model", created: 1_700_000_000, owned_by: "test", context_length: 2048, dtype: "fp32", file: "onnx/model.onnx", layout: "optimum", structured_output: true }] });
    const one = await app.inject({ method: "GET", url: "/v1/models/tiny-chat" });
    expect(one.json()).toEqual({ id: "tiny-chat", object: "model", created: 1_700_000_000, owned_by: "test", context_length: 2048, dtype: "fp32", file: "onnx/model.onnx", layout: "optimum", structured_output: true });
  });

  it("GET /health", async () => {
    const res = await app.inject({ method: "GET", url: "/health" });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ status: "ok" });
  });
});
