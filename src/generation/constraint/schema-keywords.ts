/**
 * The JSON Schema vocabulary the compiler guarantees, and readers for
 * keyword values that fail with the keyword's path. A keyword outside these
 * lists is refused by name: leaving it out would silently loosen the schema.
 */
import { SchemaError, isObject, type SchemaPath } from "./schema-error.ts";

/** Keywords that describe a schema without constraining values: accepted and not enforced, as validators do. */
export const ANNOTATIONS = new Set([
  "title",
  "description",
  "examples",
  "default",
  "$comment",
  "$schema",
  "$id",
  "$anchor",
  "deprecated",
  "readOnly",
  "writeOnly",
  "contentMediaType",
  "contentEncoding",
]);

/** Containers of definitions: they constrain nothing by themselves, `$ref` reaches into them. */
export const DEFINITIONS = new Set(["$defs", "definitions"]);

export const JSON_TYPES = ["object", "array", "string", "number", "integer", "boolean", "null"] as const;
export type JsonType = (typeof JSON_TYPES)[number];

/** Keywords that apply only to values of one type (JSON Schema ignores them for other types). */
export const TYPE_KEYWORDS: Record<string, JsonType> = {
  properties: "object",
  required: "object",
  additionalProperties: "object",
  items: "array",
  prefixItems: "array",
  additionalItems: "array",
  minItems: "array",
  maxItems: "array",
  uniqueItems: "array",
  minLength: "string",
  maxLength: "string",
  pattern: "string",
  format: "string",
  minimum: "number",
  maximum: "number",
  exclusiveMinimum: "number",
  exclusiveMaximum: "number",
};

/** Keywords that combine or reference schemas, handled before types. */
export const COMBINATORS = new Set(["anyOf", "oneOf", "allOf", "$ref", "enum", "const", "type", "nullable"]);

export function checkKnownKeywords(schema: Record<string, unknown>, path: SchemaPath): void {
  for (const key of Object.keys(schema)) {
    if (ANNOTATIONS.has(key) || DEFINITIONS.has(key) || COMBINATORS.has(key) || key in TYPE_KEYWORDS) continue;
    throw new SchemaError([...path, key], `the keyword '${key}' is not supported for structured output`);
  }
  // `false` is JSON Schema's own "off"; anything else needs a check this engine cannot make while generating.
  if (schema.uniqueItems !== undefined && schema.uniqueItems !== false) {
    throw new SchemaError([...path, "uniqueItems"], "the keyword 'uniqueItems' is not supported for structured output");
  }
  // Draft-04 boolean exclusive bounds mean something else than the numbers of later drafts.
  for (const key of ["exclusiveMinimum", "exclusiveMaximum"]) {
    if (typeof schema[key] === "boolean") throw new SchemaError([...path, key], `'${key}' must be a number (the draft-04 boolean form is not supported)`);
  }
}

export function readCount(schema: Record<string, unknown>, key: string, path: SchemaPath): number | undefined {
  const v = schema[key];
  if (v === undefined) return undefined;
  if (typeof v !== "number" || !Number.isInteger(v) || v < 0) throw new SchemaError([...path, key], `'${key}' must be a non-negative integer`);
  return v;
}

export function readNumber(schema: Record<string, unknown>, key: string, path: SchemaPath): number | undefined {
  const v = schema[key];
  if (v === undefined) return undefined;
  if (typeof v !== "number" || !Number.isFinite(v)) throw new SchemaError([...path, key], `'${key}' must be a finite number`);
  return v;
}

export function readString(schema: Record<string, unknown>, key: string, path: SchemaPath): string | undefined {
  const v = schema[key];
  if (v === undefined) return undefined;
  if (typeof v !== "string") throw new SchemaError([...path, key], `'${key}' must be a string`);
  return v;
}

export function readSchemaArray(schema: Record<string, unknown>, key: string, path: SchemaPath): unknown[] | undefined {
  const v = schema[key];
  if (v === undefined) return undefined;
  if (!Array.isArray(v) || v.length === 0) throw new SchemaError([...path, key], `'${key}' must be a non-empty array of schemas`);
  return v;
}

export function readStringList(schema: Record<string, unknown>, key: string, path: SchemaPath): string[] {
  const v = schema[key];
  if (v === undefined) return [];
  if (!Array.isArray(v) || !v.every((s) => typeof s === "string")) throw new SchemaError([...path, key], `'${key}' must be an array of strings`);
  return v as string[];
}

export function readProperties(schema: Record<string, unknown>, path: SchemaPath): Array<[string, unknown]> {
  const v = schema.properties;
  if (v === undefined) return [];
  if (!isObject(v)) throw new SchemaError([...path, "properties"], "'properties' must be an object of schemas");
  return Object.entries(v);
}

/** The value types a schema allows by its `type` (and OpenAPI's `nullable`); undefined when `type` is absent. */
export function readTypes(schema: Record<string, unknown>, path: SchemaPath): Set<JsonType> | undefined {
  const raw = schema.type;
  let types: Set<JsonType> | undefined;
  if (raw !== undefined) {
    const list = Array.isArray(raw) ? raw : [raw];
    if (list.length === 0) throw new SchemaError([...path, "type"], "'type' must name at least one type");
    types = new Set();
    for (const t of list) {
      if (typeof t !== "string" || !(JSON_TYPES as readonly string[]).includes(t)) {
        throw new SchemaError([...path, "type"], `'type' must be one of ${JSON_TYPES.join(", ")}`);
      }
      types.add(t as JsonType);
    }
  }
  if (schema.nullable !== undefined) {
    if (typeof schema.nullable !== "boolean") throw new SchemaError([...path, "nullable"], "'nullable' must be a boolean");
    if (schema.nullable && types) types.add("null");
  }
  return types;
}
