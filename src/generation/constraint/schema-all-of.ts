/**
 * `allOf` of object schemas, merged into one object schema: a key may appear
 * only if every branch allows it (a branch with additionalProperties false
 * allows only its own properties), required keys add up, and a property
 * described by two branches must be described the same way (intersecting two
 * different value schemas is not something this engine guarantees).
 */
import { SchemaError, isObject, type SchemaPath } from "./schema-error.ts";
import { ANNOTATIONS, DEFINITIONS } from "./schema-keywords.ts";

const OBJECT_KEYWORDS = new Set(["type", "properties", "required", "additionalProperties", "allOf"]);

type Resolve = (schema: unknown, path: SchemaPath) => unknown;

export function mergeAllOf(schema: Record<string, unknown>, path: SchemaPath, resolve: Resolve): Record<string, unknown> {
  const branches: Array<{ schema: Record<string, unknown>; path: SchemaPath }> = [];
  collect(schema, path, resolve, branches, 0);
  const declared = new Map<string, { schema: unknown; text: string }>();
  const required = new Set<string>();
  let allowed: Set<string> | null = null;
  for (const branch of branches) {
    const props = isObject(branch.schema.properties) ? branch.schema.properties : {};
    for (const [name, value] of Object.entries(props)) {
      const text = JSON.stringify(value);
      const seen = declared.get(name);
      if (seen && seen.text !== text) {
        throw new SchemaError([...branch.path, "properties", name], `property '${name}' is described differently by two 'allOf' branches`);
      }
      declared.set(name, { schema: value, text });
    }
    if (Array.isArray(branch.schema.required)) for (const r of branch.schema.required) if (typeof r === "string") required.add(r);
    const additional = branch.schema.additionalProperties;
    if (additional === false) {
      const own = new Set(Object.keys(props));
      allowed = allowed === null ? own : new Set([...(allowed as Set<string>)].filter((k) => own.has(k)));
    } else if (additional !== undefined && additional !== true) {
      throw new SchemaError([...branch.path, "additionalProperties"], "a schema for 'additionalProperties' inside 'allOf' is not supported");
    }
  }
  const keep = (name: string): boolean => allowed === null || allowed.has(name);
  const properties = Object.fromEntries([...declared].filter(([name]) => keep(name)).map(([name, v]) => [name, v.schema]));
  for (const name of required) {
    // A required key some branch forbids: no object satisfies every branch.
    if (!keep(name)) return { type: "object", properties: {}, required: [name], additionalProperties: false };
  }
  return { type: "object", properties, required: [...required], additionalProperties: allowed === null };
}

function collect(
  schema: Record<string, unknown>,
  path: SchemaPath,
  resolve: Resolve,
  out: Array<{ schema: Record<string, unknown>; path: SchemaPath }>,
  depth: number,
): void {
  if (depth > 32) throw new SchemaError(path, "'allOf' nests too deeply");
  for (const key of Object.keys(schema)) {
    if (ANNOTATIONS.has(key) || DEFINITIONS.has(key) || OBJECT_KEYWORDS.has(key)) continue;
    throw new SchemaError([...path, key], `'allOf' is supported for object schemas only ('${key}' is not an object keyword)`);
  }
  if (schema.type !== undefined && schema.type !== "object") {
    throw new SchemaError([...path, "type"], "'allOf' is supported for object schemas only");
  }
  out.push({ schema, path });
  if (schema.allOf === undefined) return;
  if (!Array.isArray(schema.allOf) || schema.allOf.length === 0) throw new SchemaError([...path, "allOf"], "'allOf' must be a non-empty array of schemas");
  schema.allOf.forEach((branch, i) => {
    const branchPath = [...path, "allOf", i];
    const target = resolve(branch, branchPath);
    if (!isObject(target)) throw new SchemaError(branchPath, "'allOf' is supported for object schemas only");
    collect(target, branchPath, resolve, out, depth + 1);
  });
}
