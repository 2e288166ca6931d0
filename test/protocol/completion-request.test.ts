import { describe, expect, it } from "vitest";
import { COMPLETIONS_DEFAULT_MAX_TOKENS, parseCompletionRequest } from "../../src/protocol/completion-request.ts";
import { limits, rejectionBy } from "./helpers.ts";

const base = { model: "tiny-chat", prompt: "Once upon" };

const rejection = rejectionBy(parseCompletionRequest);

describe("prompt", () => {
  it("string, token ids, and one-element batches", () => {
    expect(parseCompletionRequest(base, limits).request.prompt).toEqual({ kind: "text", text: "Once upon" });
    expect(parseCompletionRequest({ ...base, prompt: [1, 2] }, limits).request.prompt).toEqual({ kind: "tokens", ids: [1, 2] });
    expect(parseCompletionRequest({ ...base, prompt: ["a"] }, limits).request.prompt).toEqual({ kind: "text", text: "a" });
    expect(parseCompletionRequest({ ...base, prompt: [[3]] }, limits).request.prompt).toEqual({ kind: "tokens", ids: [3] });
  });

  it("a token-id prompt that cannot fit is refused by its length, without reading its ids one by one", () => {
    // A proxy counts which elements the parser reads: the refusal must not depend on the ids.
    const huge = (n: number): { ids: unknown[]; reads: Set<string> } => {
      const reads = new Set<string>();
      const ids = new Proxy(new Array<number>(n).fill(1), {
        get(target, key, receiver) {
          if (typeof key === "string" && /^\d+$/.test(key)) reads.add(key);
          return Reflect.get(target, key, receiver) as unknown;
        },
      });
      return { ids, reads };
    };
    for (const wrap of [(ids: unknown[]) => ids, (ids: unknown[]) => [ids]]) {
      const { ids, reads } = huge(5_000_000);
      const err = rejection({ ...base, prompt: wrap(ids) });
      expect(err.code).toBe("context_length_exceeded");
      expect(err.param).toBe("prompt");
      expect(err.message).toContain("512 tokens");
      expect(err.message).toContain("5000000 tokens");
      expect(reads.size).toBeLessThanOrEqual(1);
    }
    // At the context length there is no room for one token; one less may still fit (the engine decides).
    expect(rejection({ ...base, prompt: new Array(512).fill(1) }).code).toBe("context_length_exceeded");
    expect(parseCompletionRequest({ ...base, prompt: new Array(511).fill(1) }, limits).request.prompt.kind).toBe("tokens");
    // --max-prompt-tokens is the server's own bound.
    const capped = rejection({ ...base, prompt: new Array(101).fill(1) }, { ...limits, maxPromptTokens: 100 });
    expect(capped.message).toBe("The prompt has 101 tokens; this server accepts at most 100.");
  });

  it("batches are not supported", () => {
    for (const prompt of [["a", "b"], [[1], [2]]]) {
      const err = rejection({ ...base, prompt });
      expect(err.param).toBe("prompt");
      expect(err.message).toMatch(/not supported/);
    }
  });

  for (const [name, prompt, param] of [
    ["missing", undefined, "prompt"],
    ["null", null, "prompt"],
    ["a number", 5, "prompt"],
    ["negative token id", [-1], "prompt[0]"],
    ["fractional token id", [1.5], "prompt[0]"],
    ["empty token list", [], "prompt"],
    ["an object", { text: "x" }, "prompt"],
  ] as const) {
    it(`invalid: ${name}`, () => {
      const body: Record<string, unknown> = { model: "tiny-chat" };
      if (prompt !== undefined) body.prompt = prompt;
      expect(rejection(body).param).toBe(param);
    });
  }
});

describe("fields", () => {
  it("defaults: OpenAI's max_tokens 16, temperature 1, n 1", () => {
    const parsed = parseCompletionRequest(base, limits);
    expect(parsed.request).toMatchObject({ maxTokens: COMPLETIONS_DEFAULT_MAX_TOKENS, n: 1, logprobs: null, promptParam: "prompt" });
    expect(parsed.request.sampling.temperature).toBe(1);
  });

  it("a cap below the default lowers the default instead of failing", () => {
    expect(parseCompletionRequest(base, { ...limits, maxTokensCap: 8 }).request.maxTokens).toBe(8);
    expect(rejection({ ...base, max_tokens: 9 }, { ...limits, maxTokensCap: 8 }).param).toBe("max_tokens");
  });

  it("logprobs is an integer 0..5", () => {
    expect(parseCompletionRequest({ ...base, logprobs: 5 }, limits).request.logprobs).toBe(5);
    expect(parseCompletionRequest({ ...base, logprobs: 0 }, limits).request.logprobs).toBe(0);
    expect(rejection({ ...base, logprobs: 6 }).param).toBe("logprobs");
    expect(rejection({ ...base, logprobs: true }).param).toBe("logprobs");
  });

  it("echo, suffix, best_of: harmless values pass, others are unsupported", () => {
    expect(() => parseCompletionRequest({ ...base, echo: false, suffix: null, best_of: 1 }, limits)).not.toThrow();
    expect(() => parseCompletionRequest({ ...base, n: 2, best_of: 2 }, limits)).not.toThrow();
    for (const [field, value] of [
      ["echo", true],
      ["suffix", "end"],
      ["best_of", 3],
    ] as const) {
      const err = rejection({ ...base, [field]: value });
      expect(err.param).toBe(field);
      expect(err.message).toMatch(/not supported/);
    }
  });

  it("chat-only fields are unknown here", () => {
    expect(rejection({ ...base, messages: [] }).param).toBe("messages");
    expect(rejection({ ...base, top_logprobs: 1 }).param).toBe("top_logprobs");
  });

  it("shares the numeric rules with chat", () => {
    expect(rejection({ ...base, max_tokens: 0 }).param).toBe("max_tokens");
    expect(rejection({ ...base, temperature: 2.5 }).param).toBe("temperature");
    expect(rejection({ ...base, logit_bias: { x: 1 } }).param).toBe("logit_bias.x");
    expect(rejection({ ...base, stop: ["a", "b", "c", "d", "e"] }).param).toBe("stop");
  });
});
