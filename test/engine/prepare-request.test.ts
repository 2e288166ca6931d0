/** The checks before and after encoding, alone: each refusal names its parameter and gives the counts. */
import { describe, expect, it } from "vitest";
import { checkBeforeEncoding, completionBudget, type ModelLimits } from "../../src/engine/prepare-request.ts";
import { greedy, textRequest } from "../support/engine.ts";
import { thrownApiError } from "../support/api-error.ts";

const limits: ModelLimits = { contextLength: 512, vocabSize: 414, maxTokenChars: 10, maxPromptTokens: null, structuredOutput: { available: true, reason: "", asciiOnly: false } };

describe("checkBeforeEncoding", () => {
  it("refuses logit_bias ids outside the vocabulary, naming the key", () => {
    const valid = textRequest("hi", { sampling: { ...greedy, logitBias: [[3, 1], [414, 5]] } });
    const error = thrownApiError(() => checkBeforeEncoding(valid, limits));
    expect(error).toMatchObject({ status: 400, param: "logit_bias.414" });
    expect(() => checkBeforeEncoding(textRequest("hi", { sampling: { ...greedy, logitBias: [[413, 5]] } }), limits)).not.toThrow();
  });

  it("refuses text that cannot fit whatever its tokens, by its length alone", () => {
    // At most 10 characters per token, halved for normalizers: 20 characters are at least one token.
    const long = "x".repeat(20 * 513);
    expect(thrownApiError(() => checkBeforeEncoding(textRequest(long), limits))).toMatchObject({ code: "context_length_exceeded", param: "prompt" });
    expect(() => checkBeforeEncoding(textRequest("x".repeat(20 * 512)), limits)).not.toThrow();
    const chat = textRequest("", { prompt: { kind: "chat", messages: [{ role: "user", content: long }] }, promptParam: "messages" });
    expect(thrownApiError(() => checkBeforeEncoding(chat, limits)).param).toBe("messages");
  });

  it("checks a token-id prompt exactly, since its length is its token count", () => {
    const ids = (n: number) => textRequest("", { prompt: { kind: "tokens", ids: new Array<number>(n).fill(1) }, maxTokens: 12 });
    expect(() => checkBeforeEncoding(ids(500), limits)).not.toThrow();
    expect(thrownApiError(() => checkBeforeEncoding(ids(501), limits)).message).toContain("501 in the prompt, 12 for the completion");
  });
});

describe("completionBudget", () => {
  it("is max_tokens when it fits, the rest of the context when unset", () => {
    expect(completionBudget(100, textRequest("", { maxTokens: 20 }), limits)).toBe(20);
    expect(completionBudget(100, textRequest("", { maxTokens: null }), limits)).toBe(412);
    expect(completionBudget(511, textRequest("", { maxTokens: null }), limits)).toBe(1);
  });

  it("refuses a prompt and max_tokens over the context, and a prompt that fills it, with both counts", () => {
    const over = thrownApiError(() => completionBudget(500, textRequest("", { maxTokens: 13 }), limits));
    expect(over).toMatchObject({ status: 400, code: "context_length_exceeded", param: "prompt" });
    expect(over.message).toContain("512");
    expect(over.message).toContain("513");
    expect(thrownApiError(() => completionBudget(512, textRequest("", { maxTokens: null }), limits)).code).toBe("context_length_exceeded");
  });

  it("applies the server's own prompt limit", () => {
    const capped = { ...limits, maxPromptTokens: 100 };
    expect(completionBudget(100, textRequest("", { maxTokens: 5 }), capped)).toBe(5);
    expect(thrownApiError(() => completionBudget(101, textRequest("", { maxTokens: 5 }), capped)).message).toBe(
      "The prompt has 101 tokens; this server accepts at most 100.",
    );
  });
});

describe("checkBeforeEncoding: response_format schemas", () => {
  const withSchema = (schema: unknown) => textRequest("hi", { constraint: { kind: "json_schema", name: "s", schema } });

  it("refuses a keyword it cannot guarantee, with the keyword's full param path", () => {
    const error = thrownApiError(() => checkBeforeEncoding(withSchema({ type: "object", properties: { n: { type: "integer", multipleOf: 2 } } }), limits));
    expect(error).toMatchObject({ status: 400, code: "invalid_schema", param: "response_format.json_schema.schema.properties.n.multipleOf" });
    expect(error.message).toMatch(/multipleOf/);
  });

  it("refuses structured output on a model whose tokenizer cannot spell it", () => {
    const noSupport = { ...limits, structuredOutput: { available: false, reason: "tokenizer.json has no decoder", asciiOnly: true } };
    const error = thrownApiError(() => checkBeforeEncoding(textRequest("hi", { constraint: { kind: "json_object" } }), noSupport));
    expect(error).toMatchObject({ status: 400, param: "response_format" });
    expect(error.message).toMatch(/no decoder/);
  });

  it("compiles for the vocabulary: a raw astral character needs more than an ASCII-only vocabulary", () => {
    const emoji = withSchema({ type: "string", pattern: "^😀$" });
    expect(() => checkBeforeEncoding(emoji, limits)).not.toThrow();
    const asciiOnly = { ...limits, structuredOutput: { available: true, reason: "", asciiOnly: true } };
    expect(thrownApiError(() => checkBeforeEncoding(emoji, asciiOnly)).message).toMatch(/no value/);
  });
});
