import { describe, expect, it } from "vitest";
import { parseChatRequest } from "../../src/protocol/chat-request.ts";
import { limits, rejectionBy } from "./helpers.ts";

const base = { model: "m", messages: [{ role: "user", content: "hi" }] };
const rejection = rejectionBy(parseChatRequest);
const schema = { type: "object", properties: { a: { type: "integer" } }, required: ["a"], additionalProperties: false };

describe("response_format", () => {
  it("maps text to free text, json_object and json_schema to constraints", () => {
    expect(parseChatRequest({ ...base, response_format: { type: "text" } }, limits).request.constraint).toBeNull();
    expect(parseChatRequest({ ...base, response_format: null }, limits).request.constraint).toBeNull();
    expect(parseChatRequest({ ...base, response_format: { type: "json_object" } }, limits).request.constraint).toEqual({ kind: "json_object" });
    const withSchema = parseChatRequest({ ...base, response_format: { type: "json_schema", json_schema: { name: "thing_1", schema, strict: true, description: "d" } } }, limits);
    expect(withSchema.request.constraint).toEqual({ kind: "json_schema", name: "thing_1", schema });
  });

  it("treats a json_schema without a schema as any JSON value, as OpenAI does", () => {
    const parsed = parseChatRequest({ ...base, response_format: { type: "json_schema", json_schema: { name: "x" } } }, limits);
    expect(parsed.request.constraint).toEqual({ kind: "json_schema", name: "x", schema: {} });
  });

  const bad: Array<[string, unknown, string]> = [
    ["an unknown type", { type: "yaml" }, "response_format.type"],
    ["a missing json_schema", { type: "json_schema" }, "response_format.json_schema"],
    ["a bad name", { type: "json_schema", json_schema: { name: "has space", schema } }, "response_format.json_schema.name"],
    ["a name over 64 characters", { type: "json_schema", json_schema: { name: "n".repeat(65), schema } }, "response_format.json_schema.name"],
    ["a schema that is not an object", { type: "json_schema", json_schema: { name: "x", schema: "string" } }, "response_format.json_schema.schema"],
    ["an unknown field", { type: "json_schema", json_schema: { name: "x", schema, extra: 1 } }, "response_format.json_schema.extra"],
    ["an extra field next to json_object", { type: "json_object", schema }, "response_format.schema"],
  ];
  for (const [name, format, param] of bad) {
    it(`refuses ${name} with param ${param}`, () => {
      expect(rejection({ ...base, response_format: format }).param).toBe(param);
    });
  }

  it("refuses a schema above --max-schema-bytes", () => {
    const big = { type: "object", description: "x".repeat(200) };
    const error = rejection({ ...base, response_format: { type: "json_schema", json_schema: { name: "x", schema: big } } }, { ...limits, maxSchemaBytes: 100 });
    expect(error.param).toBe("response_format.json_schema.schema");
    expect(error.code).toBe("schema_too_large");
    expect(error.message).toMatch(/up to 100 bytes/);
  });

  it("refuses stop strings next to a JSON response_format, which would cut the value", () => {
    expect(rejection({ ...base, stop: ["}"], response_format: { type: "json_object" } }).param).toBe("stop");
    expect(parseChatRequest({ ...base, stop: [], response_format: { type: "json_object" } }, limits).request.stop).toEqual([]);
  });
});
