/**
 * The informational fields clients send (docs/API.md "Request fields"):
 * accepted as OpenAI defines them, the ids and metadata kept for the log
 * line, and the values the server cannot honour refused naming the field.
 */
import { describe, expect, it } from "vitest";
import { parseChatRequest } from "../../src/protocol/chat-request.ts";
import { parseCompletionRequest } from "../../src/protocol/completion-request.ts";
import { limits, rejectionBy } from "./helpers.ts";

const base = { model: "tiny-chat", messages: [{ role: "user", content: "Hi" }] };
const rejection = rejectionBy(parseChatRequest);
const parse = (extra: Record<string, unknown>) => parseChatRequest({ ...base, ...extra }, limits);

describe("accepted", () => {
  it("every field with a value it can honour; the ids and metadata are kept for the log", () => {
    const metadata = { team: "search", ["k".repeat(64)]: "v".repeat(512) };
    const parsed = parse({
      metadata,
      user: "user-1",
      safety_identifier: "s".repeat(64),
      service_tier: "auto",
      prompt_cache_key: "conversation-42",
      store: false,
      stream: true,
      stream_options: { include_usage: true, include_obfuscation: false },
    });
    expect(parsed).toMatchObject({ user: "user-1", safetyIdentifier: "s".repeat(64), metadata, includeUsage: true });
    expect(parse({ service_tier: "default" }).metadata).toBeNull();
  });

  it("16 metadata pairs, and {}", () => {
    const metadata = Object.fromEntries(Array.from({ length: 16 }, (_, i) => [`k${i}`, `v${i}`]));
    expect(parse({ metadata }).metadata).toEqual(metadata);
    expect(parse({ metadata: {} }).metadata).toEqual({});
  });

  it("null means unset", () => {
    const parsed = parse({ metadata: null, safety_identifier: null, service_tier: null, prompt_cache_key: null, store: null });
    expect([parsed.safetyIdentifier, parsed.metadata]).toEqual([null, null]);
  });

  it("completions accept include_obfuscation false (the SDK shares chat's stream_options type)", () => {
    const parsed = parseCompletionRequest({ model: "m", prompt: "x", stream: true, stream_options: { include_obfuscation: false } }, limits);
    expect([parsed.safetyIdentifier, parsed.metadata]).toEqual([null, null]);
  });
});

describe("refused", () => {
  for (const [name, extra, param, code] of [
    ["store: true", { store: true }, "store", "unsupported_parameter"],
    ["include_obfuscation: true", { stream: true, stream_options: { include_obfuscation: true } }, "stream_options.include_obfuscation", "unsupported_parameter"],
    ["include_obfuscation not a boolean", { stream: true, stream_options: { include_obfuscation: "no" } }, "stream_options.include_obfuscation", "invalid_value"],
    ["service_tier flex", { service_tier: "flex" }, "service_tier", "invalid_value"],
    ["service_tier priority", { service_tier: "priority" }, "service_tier", "invalid_value"],
    ["service_tier not a string", { service_tier: 1 }, "service_tier", "invalid_value"],
    ["17 metadata pairs", { metadata: Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`k${i}`, "v"])) }, "metadata", "invalid_value"],
    ["a 65-character metadata key", { metadata: { ["k".repeat(65)]: "v" } }, `metadata.${"k".repeat(65)}`, "invalid_value"],
    ["a 513-character metadata value", { metadata: { k: "v".repeat(513) } }, "metadata.k", "invalid_value"],
    ["a metadata value not a string", { metadata: { k: 1 } }, "metadata.k", "invalid_value"],
    ["metadata not an object", { metadata: ["a"] }, "metadata", "invalid_value"],
    ["a 65-character safety_identifier", { safety_identifier: "s".repeat(65) }, "safety_identifier", "invalid_value"],
    ["safety_identifier not a string", { safety_identifier: 1 }, "safety_identifier", "invalid_value"],
    ["prompt_cache_key not a string", { prompt_cache_key: 1 }, "prompt_cache_key", "invalid_value"],
  ] as const) {
    it(`${name} -> 400 on ${param}`, () => {
      const err = rejection({ ...base, ...extra });
      expect([err.param, err.code]).toEqual([param, code]);
    });
  }

  it("the chat-only fields are unknown to completions", () => {
    const err = rejectionBy(parseCompletionRequest)({ model: "m", prompt: "x", metadata: { a: "b" } });
    expect([err.param, err.code]).toEqual(["metadata", "unknown_parameter"]);
  });
});
