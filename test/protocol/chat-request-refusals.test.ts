/** Chat request parsing, what is refused: docs/RELIABILITY.md "Messages and prompts" and "Numbers", docs/API.md "Errors". */
import { describe, expect, it } from "vitest";
import { parseChatRequest } from "../../src/protocol/chat-request.ts";
import { limits, rejectionBy } from "./helpers.ts";

const base = { model: "tiny-chat", messages: [{ role: "user", content: "Hi" }] };
const rejection = rejectionBy(parseChatRequest);
const paramOf = (extra: Record<string, unknown>): string | null => rejection({ ...base, ...extra }).param;

describe("messages -> 400", () => {
  for (const [name, messages, param] of [
    ["missing", undefined, "messages"],
    ["empty", [], "messages"],
    ["null", null, "messages"],
    ["a string", "hi", "messages"],
    ["[123]", [123], "messages[0]"],
    ["[{}]", [{}], "messages[0].role"],
    ["unknown role", [{ role: "wizard", content: "x" }], "messages[0].role"],
    ["numeric content", [{ role: "user", content: 5 }], "messages[0].content"],
    ["null user content", [{ role: "user", content: null }], "messages[0].content"],
    ["null assistant content", [{ role: "assistant", content: null }], "messages[0].content"],
    ["unknown message field", [{ role: "user", content: "x", foo: 1 }], "messages[0].foo"],
    ["unknown part field", [{ role: "user", content: [{ type: "text", text: "x", foo: 1 }] }], "messages[0].content[0].foo"],
    ["non-string part text", [{ role: "user", content: [{ type: "text", text: 1 }] }], "messages[0].content[0].text"],
    ["unknown part type", [{ role: "user", content: [{ type: "video", url: "x" }] }], "messages[0].content[0].type"],
    ["tool without tool_call_id", [{ role: "tool", content: "x" }], "messages[0].tool_call_id"],
  ] as const) {
    it(name, () => {
      const body: Record<string, unknown> = { model: "tiny-chat" };
      if (messages !== undefined) body.messages = messages;
      expect(rejection(body).param).toBe(param);
    });
  }
});

describe("unsupported OpenAI fields -> 400 naming them", () => {
  for (const [field, value] of [
    ["functions", [{ name: "f" }]],
    ["function_call", "auto"],
    ["audio", { voice: "alloy", format: "mp3" }],
    ["modalities", ["text", "audio"]],
    ["prediction", { type: "content", content: "x" }],
    ["web_search_options", {}],
    ["reasoning_effort", "low"],
    ["store", true],
  ] as const) {
    it(field, () => {
      const err = rejection({ ...base, [field]: value });
      expect(err.param).toBe(field);
      expect(err.message).toMatch(/not supported/);
      expect(err.code).toBe("unsupported_parameter");
    });
  }

  it("accepts the values that mean 'off'", () => {
    expect(() =>
      parseChatRequest(
        { ...base, response_format: { type: "text" }, tools: [], tool_choice: "none", store: false, modalities: ["text"] },
        limits,
      ),
    ).not.toThrow();
  });

  for (const [name, message, param] of [
    ["image part", { role: "user", content: [{ type: "image_url", image_url: { url: "http://x" } }] }, "messages[0].content[0].type"],
    ["audio part", { role: "user", content: [{ type: "input_audio", input_audio: {} }] }, "messages[0].content[0].type"],
    ["assistant function_call", { role: "assistant", content: "x", function_call: { name: "f" } }, "messages[0].function_call"],
  ] as const) {
    it(name, () => {
      const err = rejection({ ...base, messages: [message] });
      expect(err.param).toBe(param);
      expect(err.message).toMatch(/not supported/);
    });
  }
});

describe("numbers -> 400", () => {
  for (const [field, value] of [
    ["max_tokens", -1],
    ["max_tokens", 0],
    ["max_tokens", 1.5],
    ["max_tokens", "10"],
    ["max_completion_tokens", 0],
    ["temperature", 1e6],
    ["temperature", -0.1],
    ["temperature", Infinity],
    ["temperature", Number.NaN],
    ["top_p", -1],
    ["top_p", 0],
    ["top_p", 1.01],
    ["top_k", -2],
    ["top_k", 1.5],
    ["min_p", 1.5],
    ["presence_penalty", 2.5],
    ["frequency_penalty", -3],
    ["repetition_penalty", 0],
    ["repetition_penalty", -1],
    ["repetition_penalty", 11],
    ["seed", 1.5],
    ["seed", 2 ** 60],
    ["n", 0],
    ["n", 5],
    ["n", 1.5],
    ["top_logprobs", 21],
    ["top_logprobs", -1],
    ["logprobs", 1],
    ["stream", "yes"],
    ["user", 5],
  ] as const) {
    it(`${field}: ${String(value)}`, () => {
      const extra: Record<string, unknown> = { [field]: value };
      if (field === "top_logprobs") extra.logprobs = true;
      expect(paramOf(extra)).toBe(field);
    });
  }

  it("1e999 in the JSON text parses to Infinity and is rejected", () => {
    const body = JSON.parse('{"model":"tiny-chat","messages":[{"role":"user","content":"x"}],"temperature":1e999}');
    expect(rejection(body).param).toBe("temperature");
  });

  it("top_logprobs needs logprobs: true", () => {
    expect(paramOf({ top_logprobs: 2 })).toBe("top_logprobs");
    expect(paramOf({ top_logprobs: 2, logprobs: false })).toBe("top_logprobs");
  });
});

describe("stop", () => {
  it("string, array, empty array", () => {
    expect(parseChatRequest({ ...base, stop: ["a", "b"] }, limits).request.stop).toEqual(["a", "b"]);
    expect(parseChatRequest({ ...base, stop: [] }, limits).request.stop).toEqual([]);
  });
  for (const [name, stop, param] of [
    ["too many", ["a", "b", "c", "d", "e"], "stop"],
    ["empty string", "", "stop"],
    ["empty element", ["a", ""], "stop[1]"],
    ["non-string element", ["a", 1], "stop[1]"],
    ["a number", 5, "stop"],
  ] as const) {
    it(name, () => expect(paramOf({ stop })).toBe(param));
  }
});

describe("logit_bias", () => {
  for (const [name, bias, param] of [
    ["non-integer key", { abc: 1 }, "logit_bias.abc"],
    ["negative key", { "-1": 1 }, "logit_bias.-1"],
    ["fractional key", { "1.5": 1 }, "logit_bias.1.5"],
    ["huge key", { "99999999999": 1 }, "logit_bias.99999999999"],
    ["non-numeric value", { "5": "x" }, "logit_bias.5"],
    ["value out of range", { "5": 101 }, "logit_bias.5"],
    ["not an object", [1, 2], "logit_bias"],
  ] as const) {
    it(name, () => expect(paramOf({ logit_bias: bias })).toBe(param));
  }
});

describe("stream_options", () => {
  it("only with stream: true", () => {
    expect(paramOf({ stream_options: { include_usage: true } })).toBe("stream_options");
    expect(paramOf({ stream: false, stream_options: { include_usage: true } })).toBe("stream_options");
  });
  it("include_usage must be boolean and no other keys", () => {
    expect(paramOf({ stream: true, stream_options: { include_usage: "yes" } })).toBe("stream_options.include_usage");
    expect(paramOf({ stream: true, stream_options: { foo: 1 } })).toBe("stream_options.foo");
  });
});

it("unknown top-level field -> 400 naming it", () => {
  const err = rejection({ ...base, temprature: 1 });
  expect(err.param).toBe("temprature");
  expect(err.message).toContain("temprature");
});

it("model must be a non-empty string", () => {
  expect(paramOf({ model: "" })).toBe("model");
  expect(paramOf({ model: 5 })).toBe("model");
});
