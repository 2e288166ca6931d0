/** Each offered function's parameters are compiled before any work, as the constrained decoder will: 400s name the keyword. */
import { describe, expect, it } from "vitest";
import type { ToolFunction, ToolSettings } from "../../src/domain.ts";
import { checkToolSchemas } from "../../src/engine/check-tools.ts";
import { checkBeforeEncoding, type ModelLimits } from "../../src/engine/prepare-request.ts";
import { chatRequest } from "../support/requests.ts";
import { thrownApiError } from "../support/api-error.ts";

const settings = (...tools: ToolFunction[]): ToolSettings => ({ tools, choice: { kind: "auto" }, parallel: true });
const fn = (name: string, parameters: unknown): ToolFunction => ({ name, parameters });
const ok = fn("ok", { type: "object", properties: { city: { type: "string", minLength: 1 } }, required: ["city"] });

describe("checkToolSchemas", () => {
  it("accepts schemas the engine can guarantee, and no tools", () => {
    expect(() => checkToolSchemas(null)).not.toThrow();
    expect(() => checkToolSchemas(settings(ok, fn("none", { type: "object", properties: {} }), fn("any", {})))).not.toThrow();
    // Combinators whose every branch is an object are objects too.
    const branches = { anyOf: [{ type: "object", properties: { a: { type: "string" } }, required: ["a"] }, { type: "object", properties: { b: { type: "integer" } }, required: ["b"] }] };
    expect(() => checkToolSchemas(settings(fn("either", branches), fn("ref", { $ref: "#/$defs/o", $defs: { o: { type: "object" } } })))).not.toThrow();
  });

  for (const [name, parameters, param] of [
    ["an unsupported keyword", { type: "object", properties: { n: { type: "number", multipleOf: 3 } } }, "tools[1].function.parameters.properties.n.multipleOf"],
    ["a reference outside the schema", { type: "object", properties: { a: { $ref: "http://x/y" } } }, "tools[1].function.parameters.properties.a.$ref"],
    ["a contradiction", { type: "object", properties: { a: { type: "string", minLength: 5, maxLength: 2 } }, required: ["a"] }, "tools[1].function.parameters"],
    ["a top-level type other than object", { type: "string" }, "tools[1].function.parameters.type"],
    ["anyOf that allows a string", { anyOf: [{ type: "object" }, { type: "string" }] }, "tools[1].function.parameters"],
    ["an enum of non-objects", { enum: ["a", 1] }, "tools[1].function.parameters"],
    ["a const string", { const: "x" }, "tools[1].function.parameters"],
    ["a reference to a string schema", { $ref: "#/$defs/s", $defs: { s: { type: "string" } } }, "tools[1].function.parameters"],
  ] as const) {
    it(`${name} -> 400 invalid_schema on ${param}`, () => {
      const error = thrownApiError(() => checkToolSchemas(settings(ok, fn("bad", parameters))));
      expect(error).toMatchObject({ status: 400, code: "invalid_schema" });
      expect(error.param?.startsWith("tools[1].function.parameters")).toBe(true);
      if (!name.startsWith("a contradiction")) expect(error.param).toBe(param);
    });
  }

  it("runs before encoding, whatever the tool_choice (none included)", () => {
    const bad = fn("bad", { type: "object", properties: { n: { type: "number", multipleOf: 3 } } });
    const limits: ModelLimits = { contextLength: 512, vocabSize: 414, maxTokenChars: 10, maxPromptTokens: null, structuredOutput: { available: true, reason: "", asciiOnly: false } };
    const request = chatRequest("hi", { tools: { tools: [bad], choice: { kind: "none" }, parallel: true } });
    expect(thrownApiError(() => checkBeforeEncoding(request, limits)).param).toBe("tools[0].function.parameters.properties.n.multipleOf");
  });

  it("counts call arguments toward the prompt's least length, not tool schemas (a template may show only names)", () => {
    const limits: ModelLimits = { contextLength: 10, vocabSize: 414, maxTokenChars: 1, maxPromptTokens: null, structuredOutput: { available: true, reason: "", asciiOnly: false } };
    const big = fn("big", { type: "object", description: "x".repeat(100) });
    const request = chatRequest("hi", { prompt: { kind: "chat", messages: [{ role: "user", content: "hi" }], tools: [big] } });
    expect(() => checkBeforeEncoding(request, limits)).not.toThrow();
    const call = chatRequest("", {
      prompt: { kind: "chat", messages: [{ role: "assistant", content: "", toolCalls: [{ id: "c", name: "f", arguments: JSON.stringify({ a: "y".repeat(100) }) }] }] },
    });
    expect(thrownApiError(() => checkBeforeEncoding(call, limits)).param).toBe("messages");
  });
});
