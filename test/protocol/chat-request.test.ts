/** Chat request parsing, what is accepted: docs/API.md "Request fields" (refusals: chat-request-refusals.test.ts). */
import { describe, expect, it } from "vitest";
import { parseChatRequest } from "../../src/protocol/chat-request.ts";
import { limits, rejectionBy } from "./helpers.ts";

const base = { model: "tiny-chat", messages: [{ role: "user", content: "Hi" }] };
const rejection = rejectionBy(parseChatRequest);
const paramOf = (extra: Record<string, unknown>): string | null => rejection({ ...base, ...extra }).param;

describe("defaults", () => {
  it("fills OpenAI defaults", () => {
    const parsed = parseChatRequest(base, limits);
    expect(parsed).toEqual({
      model: "tiny-chat",
      stream: false,
      includeUsage: false,
      user: null,
      safetyIdentifier: null,
      metadata: null,
      request: {
        prompt: { kind: "chat", messages: [{ role: "user", content: "Hi" }], tools: [], templateKwargs: {} },
        sampling: {
          temperature: 1,
          topP: 1,
          topK: 0,
          minP: 0,
          seed: null,
          presencePenalty: 0,
          frequencyPenalty: 0,
          repetitionPenalty: 1,
          logitBias: [],
        },
        maxTokens: null,
        stop: [],
        n: 1,
        logprobs: null,
        promptParam: "messages",
        constraint: null,
        tools: null,
      },
    });
  });

  it("treats null as unset", () => {
    const parsed = parseChatRequest(
      { ...base, temperature: null, top_p: null, n: null, stop: null, seed: null, max_tokens: null, stream: null, user: null, tools: null },
      limits,
    );
    expect(parsed.request.sampling.temperature).toBe(1);
    expect(parsed.request.n).toBe(1);
  });
});

describe("honoured fields", () => {
  it("maps every sampling field", () => {
    const parsed = parseChatRequest(
      {
        ...base,
        temperature: 0,
        top_p: 0.5,
        top_k: 40,
        min_p: 0.1,
        seed: 42,
        presence_penalty: -2,
        frequency_penalty: 2,
        repetition_penalty: 1.3,
        logit_bias: { "50256": -100, "7": 2.5 },
        max_completion_tokens: 12,
        stop: "END",
        n: 3,
        logprobs: true,
        top_logprobs: 5,
        stream: true,
        stream_options: { include_usage: true },
        user: "u-1",
      },
      limits,
    );
    expect(parsed.stream).toBe(true);
    expect(parsed.includeUsage).toBe(true);
    expect(parsed.user).toBe("u-1");
    expect(parsed.request).toMatchObject({
      maxTokens: 12,
      stop: ["END"],
      n: 3,
      logprobs: 5,
      sampling: {
        temperature: 0,
        topP: 0.5,
        topK: 40,
        minP: 0.1,
        seed: 42,
        presencePenalty: -2,
        frequencyPenalty: 2,
        repetitionPenalty: 1.3,
        logitBias: [
          [7, 2.5],
          [50256, -100],
        ],
      },
    });
  });

  it("logprobs without top_logprobs means 0 alternatives", () => {
    expect(parseChatRequest({ ...base, logprobs: true }, limits).request.logprobs).toBe(0);
    expect(parseChatRequest({ ...base, logprobs: false }, limits).request.logprobs).toBeNull();
  });

  it("top_k -1 means off", () => {
    expect(parseChatRequest({ ...base, top_k: -1 }, limits).request.sampling.topK).toBe(0);
  });

  it("all roles, text parts joined, names and tool_call_id kept", () => {
    const parsed = parseChatRequest(
      {
        model: "tiny-chat",
        messages: [
          { role: "system", content: "S" },
          { role: "developer", content: [{ type: "text", text: "D" }] },
          { role: "user", content: [{ type: "text", text: "a" }, { type: "text", text: "b" }], name: "bob" },
          { role: "assistant", content: "A", tool_calls: [{ id: "call_1", type: "function", function: { name: "f", arguments: "{}" } }] },
          { role: "tool", content: "T", tool_call_id: "call_1" },
        ],
      },
      limits,
    );
    expect(parsed.request.prompt).toEqual({
      kind: "chat",
      messages: [
        { role: "system", content: "S" },
        { role: "developer", content: "D" },
        { role: "user", content: "ab", name: "bob" },
        { role: "assistant", content: "A", toolCalls: [{ id: "call_1", name: "f", arguments: "{}" }] },
        { role: "tool", content: "T", toolCallId: "call_1" },
      ],
      tools: [],
      templateKwargs: {},
    });
  });

  it("max_tokens and max_completion_tokens: equal is fine, different is 400", () => {
    expect(parseChatRequest({ ...base, max_tokens: 5, max_completion_tokens: 5 }, limits).request.maxTokens).toBe(5);
    expect(paramOf({ max_tokens: 5, max_completion_tokens: 6 })).toBe("max_tokens");
  });

  it("maxTokensCap bounds max_tokens and is the default", () => {
    const capped = { ...limits, maxTokensCap: 100 };
    expect(parseChatRequest(base, capped).request.maxTokens).toBe(100);
    expect(parseChatRequest({ ...base, max_tokens: 50 }, capped).request.maxTokens).toBe(50);
    expect(rejection({ ...base, max_tokens: 101 }, capped).param).toBe("max_tokens");
    expect(rejection({ ...base, max_completion_tokens: 101 }, capped).param).toBe("max_completion_tokens");
  });

  it("lone surrogates become U+FFFD", () => {
    const body = JSON.parse('{"model":"tiny-chat","messages":[{"role":"user","content":"a\\ud800b\\udc00c\\ud83d\\ude00"}],"stop":["\\udfff"]}');
    const parsed = parseChatRequest(body, limits);
    const message = parsed.request.prompt.kind === "chat" ? parsed.request.prompt.messages[0].content : "";
    expect(message).toBe("a\uFFFDb\uFFFDc\u{1F600}");
    expect(parsed.request.stop).toEqual(["\uFFFD"]);
  });

  it("special-token text passes through as plain text", () => {
    const parsed = parseChatRequest({ ...base, messages: [{ role: "user", content: "<|im_end|></s>" }] }, limits);
    expect(parsed.request.prompt).toEqual({ kind: "chat", messages: [{ role: "user", content: "<|im_end|></s>" }], tools: [], templateKwargs: {} });
  });
});
