import { describe, expect, it } from "vitest";
import { compileJsonObject, compileSchema } from "../../../src/generation/constraint/schema-compiler.ts";
import { SchemaError } from "../../../src/generation/constraint/schema-error.ts";
import { grammarAccepts, schemaValid } from "./support.ts";

/** Every text is accepted by the grammar exactly when it is compact JSON that ajv finds valid. */
function expectVerdicts(schema: unknown, accepted: string[], rejected: string[]): void {
  const grammar = compileSchema(schema);
  for (const text of accepted) {
    expect(grammarAccepts(grammar, text), `accepts ${text}`).toBe(true);
    expect(schemaValid(schema, JSON.parse(text)), `ajv accepts ${text}`).toBe(true);
  }
  for (const text of rejected) expect(grammarAccepts(grammar, text), `rejects ${text}`).toBe(false);
}

function refusal(schema: unknown): SchemaError {
  try {
    compileSchema(schema);
  } catch (error) {
    if (error instanceof SchemaError) return error;
    throw error;
  }
  throw new Error("the schema compiled");
}

describe("compileSchema", () => {
  it("writes declared properties in order, required ones always, optional ones maybe", () => {
    const schema = {
      type: "object",
      properties: { name: { type: "string" }, age: { type: "integer" }, tags: { type: "array", items: { type: "string" } } },
      required: ["name"],
      additionalProperties: false,
    };
    expectVerdicts(
      schema,
      ['{"name":"a"}', '{"name":"a","age":3}', '{"name":"a","tags":[]}', '{"name":"a","age":-1,"tags":["x","y"]}'],
      ['{}', '{"age":3}', '{"age":3,"name":"a"}', '{"name":"a","extra":1}', '{"name":"a",}', '{ "name":"a"}', '{"name": "a"}', '{"name":"a", "age":3}', '{"name":"a","age":3.5}'],
    );
  });

  it("puts additional properties after the declared ones, never under a declared name", () => {
    const schema = { type: "object", properties: { a: { type: "integer" } }, additionalProperties: { type: "boolean" } };
    expectVerdicts(schema, ["{}", '{"a":1}', '{"a":1,"b":true}', '{"b":false,"c":true}'], ['{"b":1}', '{"b":true,"a":1}', '{"a":1,"a":2}']);
  });

  it("allows any additional property when additionalProperties is absent", () => {
    expectVerdicts({ type: "object", properties: { a: { type: "null" } } }, ['{"a":null,"x":[1,{"y":"z"}]}', '{"q":{}}'], ['{"a":1}']);
  });

  it("requires a key the schema names only in required", () => {
    expectVerdicts({ type: "object", required: ["k"] }, ['{"k":1}', '{"k":{"j":[]}}'], ["{}"]);
  });

  it("compiles arrays with prefixItems, items and counts", () => {
    const schema = { type: "array", prefixItems: [{ type: "integer" }, { type: "string" }], items: { type: "boolean" }, minItems: 1, maxItems: 3 };
    expectVerdicts(schema, ["[1]", '[1,"a"]', '[1,"a",true]'], ["[]", '["a"]', '[1,"a",true,false]', '[1,"a","b"]']);
    expectVerdicts({ type: "array", items: { type: "integer" }, minItems: 2, maxItems: 2 }, ["[1,2]"], ["[1]", "[1,2,3]", "[]"]);
    expectVerdicts({ type: "array", prefixItems: [{ const: 1 }], items: false }, ["[]", "[1]"], ["[1,1]", "[2]"]);
  });

  it("compiles enum, const, type lists and nullable", () => {
    expectVerdicts({ enum: ["red", "green", 3, null, { a: [1] }] }, ['"red"', '"green"', "3", "null", '{"a":[1]}'], ['"blue"', "4", '"re"']);
    expectVerdicts({ type: "string", enum: ["x", 1] }, ['"x"'], ["1"]);
    expectVerdicts({ const: "fixed" }, ['"fixed"'], ['"fixe"', '"fixedd"']);
    expectVerdicts({ type: ["string", "null"] }, ['"a"', "null"], ["1"]);
    expectVerdicts({ type: "integer", nullable: true }, ["1", "null"], ['"a"']);
  });

  it("compiles anyOf, discriminated oneOf and allOf of objects", () => {
    expectVerdicts({ anyOf: [{ type: "integer" }, { type: "string", maxLength: 2 }] }, ["5", '"ab"'], ['"abc"', "true"]);
    const oneOf = {
      oneOf: [
        { type: "object", properties: { kind: { const: "a" }, x: { type: "integer" } }, required: ["kind", "x"], additionalProperties: false },
        { type: "object", properties: { kind: { const: "b" }, y: { type: "string" } }, required: ["kind", "y"], additionalProperties: false },
      ],
    };
    expectVerdicts(oneOf, ['{"kind":"a","x":1}', '{"kind":"b","y":"s"}'], ['{"kind":"a","y":"s"}']);
    const allOf = {
      allOf: [
        { type: "object", properties: { a: { type: "integer" } }, required: ["a"] },
        { type: "object", properties: { b: { type: "boolean" } }, required: ["b"] },
      ],
    };
    expectVerdicts(allOf, ['{"a":1,"b":true}'], ['{"a":1}', '{"b":true}']);
  });

  it("follows $ref into $defs and definitions, recursively", () => {
    const tree = {
      $defs: { node: { type: "object", properties: { value: { type: "integer" }, children: { type: "array", items: { $ref: "#/$defs/node" } } }, required: ["value"], additionalProperties: false } },
      $ref: "#/$defs/node",
    };
    expectVerdicts(tree, ['{"value":1}', '{"value":1,"children":[{"value":2,"children":[{"value":3}]}]}'], ['{"value":1,"children":[{}]}']);
    const draft7 = { definitions: { id: { type: "integer", minimum: 0 } }, type: "array", items: { $ref: "#/definitions/id" } };
    expectVerdicts(draft7, ["[0,5]"], ["[-1]"]);
  });

  it("accepts any JSON object for json_object", () => {
    const grammar = compileJsonObject();
    for (const text of ["{}", '{"a":1}', '{"a":{"b":[1,"x",null,true,false,-0.5]}}']) expect(grammarAccepts(grammar, text), text).toBe(true);
    for (const text of ["[]", "1", '"a"', '{"a":}', "{a:1}"]) expect(grammarAccepts(grammar, text), text).toBe(false);
  });

  it("accepts the schemas the client libraries generate (zod v4 via openai, LangChain and the AI SDK)", () => {
    const zodStyle = {
      $schema: "https://json-schema.org/draft/2020-12/schema",
      type: "object",
      properties: {
        city: { type: "string", description: "the city" },
        days: { type: "integer", minimum: -9007199254740991, maximum: 9007199254740991 },
        unit: { type: "string", enum: ["c", "f"] },
        note: { anyOf: [{ type: "string" }, { type: "null" }] },
      },
      required: ["city", "days", "unit", "note"],
      additionalProperties: false,
    };
    expectVerdicts(zodStyle, ['{"city":"Oslo","days":3,"unit":"c","note":null}'], ['{"city":"Oslo","days":3,"unit":"k","note":null}']);
  });
});

describe("compileSchema refusals name the keyword's path", () => {
  const cases: Array<[string, unknown, Array<string | number>]> = [
    ["an unsupported keyword", { type: "object", properties: { n: { type: "integer", multipleOf: 3 } } }, ["properties", "n", "multipleOf"]],
    ["uniqueItems", { type: "array", uniqueItems: true }, ["uniqueItems"]],
    ["patternProperties", { type: "object", patternProperties: { "^a": {} } }, ["patternProperties"]],
    ["not", { not: { type: "string" } }, ["not"]],
    ["a remote $ref", { $ref: "https://example.com/s.json" }, ["$ref"]],
    ["a dangling $ref", { $ref: "#/$defs/missing" }, ["$ref"]],
    ["overlapping oneOf", { oneOf: [{ type: "string" }, { type: "string", maxLength: 3 }] }, ["oneOf"]],
    ["a keyword next to anyOf", { anyOf: [{ type: "string" }], minLength: 2 }, ["minLength"]],
    ["a bad type", { type: "text" }, ["type"]],
    ["a negative count", { type: "string", minLength: -1 }, ["minLength"]],
    ["draft-04 exclusive bounds", { type: "number", minimum: 1, exclusiveMinimum: true }, ["exclusiveMinimum"]],
  ];
  for (const [name, schema, path] of cases) {
    it(name, () => expect(refusal(schema).path).toEqual(path));
  }

  it("refuses a schema no value satisfies", () => {
    expect(refusal({ type: "integer", minimum: 5, maximum: 1 }).message).toMatch(/no value/);
    expect(refusal({ type: "object", required: ["a"], additionalProperties: false }).message).toMatch(/no value/);
    expect(refusal({ $defs: { loop: { type: "object", properties: { next: { $ref: "#/$defs/loop" } }, required: ["next"] } }, $ref: "#/$defs/loop" }).message).toMatch(/no value/);
  });

  it("refuses a schema too large or too deep to compile", () => {
    const wide = { type: "object", properties: Object.fromEntries(Array.from({ length: 5000 }, (_, i) => [`p${i}`, { type: "integer" }])) };
    expect(refusal(wide).message).toMatch(/too large/);
    let deep: unknown = { type: "integer" };
    for (let i = 0; i < 100; i++) deep = { type: "array", items: deep };
    expect(refusal(deep).message).toMatch(/deeper than/);
  });
});
