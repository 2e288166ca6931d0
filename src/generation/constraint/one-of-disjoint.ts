/**
 * `oneOf` means exactly one branch matches. A grammar can offer the branches
 * as alternatives, but it cannot prevent a value that two branches both
 * match. So `oneOf` is compiled only when no value can match two branches:
 * the branches allow disjoint JSON types, or they are objects that all
 * require one property whose const/enum values differ (a discriminated
 * union), or they are enums with no value in common. Otherwise the client
 * is told to use `anyOf`.
 */
import { SchemaError, isObject, type SchemaPath } from "./schema-error.ts";
import { JSON_TYPES, type JsonType } from "./schema-keywords.ts";

type Resolve = (schema: unknown) => unknown;

type ValueType = Exclude<JsonType, "integer">;

export function checkOneOfDisjoint(branches: unknown[], resolve: Resolve, path: SchemaPath): void {
  const resolved = branches.map((b) => resolve(b));
  const types = resolved.map((b) => typesOf(b, resolve, 0));
  if (pairwiseDisjoint(types)) return;
  const literals = resolved.map((b) => literalTexts(b));
  if (literals.every((l) => l !== null) && pairwiseDisjoint(literals as Array<Set<string>>)) return;
  const onlyObjects = types.every((t) => t.size === 1 && t.has("object"));
  if (onlyObjects && hasDiscriminator(resolved, resolve)) return;
  throw new SchemaError(
    [...path, "oneOf"],
    "'oneOf' branches that can match the same value cannot be guaranteed; use 'anyOf', or make the branches differ by type or by a required const property",
  );
}

function typesOf(schema: unknown, resolve: Resolve, depth: number): Set<ValueType> {
  const all = new Set<ValueType>(JSON_TYPES.filter((t): t is ValueType => t !== "integer"));
  if (depth > 32 || !isObject(schema)) return schema === false ? new Set() : all;
  if (schema.$ref !== undefined) return typesOf(resolve(schema), resolve, depth + 1);
  const literal = literalValues(schema);
  if (literal) return new Set(literal.map(valueType));
  for (const key of ["anyOf", "oneOf"] as const) {
    const list = schema[key];
    if (Array.isArray(list)) return new Set(list.flatMap((b) => [...typesOf(resolve(b), resolve, depth + 1)]));
  }
  if (schema.type === undefined) return all;
  const list = (Array.isArray(schema.type) ? schema.type : [schema.type]) as string[];
  const out = new Set<ValueType>(list.map((t) => (t === "integer" ? "number" : (t as ValueType))));
  if (schema.nullable === true) out.add("null");
  return out;
}

function literalValues(schema: Record<string, unknown>): unknown[] | null {
  if ("const" in schema) return [schema.const];
  if (Array.isArray(schema.enum)) return schema.enum;
  return null;
}

function literalTexts(schema: unknown): Set<string> | null {
  if (!isObject(schema)) return null;
  const values = literalValues(schema);
  return values ? new Set(values.map((v) => JSON.stringify(v))) : null;
}

function valueType(v: unknown): ValueType {
  if (v === null) return "null";
  if (Array.isArray(v)) return "array";
  return typeof v as ValueType;
}

function pairwiseDisjoint<T>(sets: Array<Set<T>>): boolean {
  for (let i = 0; i < sets.length; i++) {
    for (let j = i + 1; j < sets.length; j++) for (const v of sets[i]) if (sets[j].has(v)) return false;
  }
  return true;
}

/** Some property is required by every branch and has const/enum values no two branches share. */
function hasDiscriminator(branches: unknown[], resolve: Resolve): boolean {
  if (!branches.every(isObject)) return false;
  const objects = branches as Array<Record<string, unknown>>;
  const requiredIn = (b: Record<string, unknown>): string[] => (Array.isArray(b.required) ? (b.required as string[]) : []);
  for (const name of requiredIn(objects[0])) {
    const values = objects.map((b) => {
      if (!requiredIn(b).includes(name) || !isObject(b.properties)) return null;
      return literalTexts(resolve(b.properties[name]));
    });
    if (values.every((v) => v !== null) && pairwiseDisjoint(values as Array<Set<string>>)) return true;
  }
  return false;
}
