/**
 * Arrays: `prefixItems` (or draft-07's array form of `items`) for the first
 * positions, then `items` (or `additionalItems`) for the rest, with the
 * total count kept within minItems..maxItems.
 */
import type { GrammarNode } from "./grammar.ts";
import type { CompileContext } from "./compile-context.ts";
import { SchemaError, type SchemaPath } from "./schema-error.ts";
import { readCount } from "./schema-keywords.ts";

export function arrayNode(ctx: CompileContext, schema: Record<string, unknown>, path: SchemaPath): GrammarNode {
  const g = ctx.grammar;
  let prefix: unknown[];
  let prefixKey: string;
  let rest: unknown;
  let restKey: string;
  if (Array.isArray(schema.items)) {
    [prefix, prefixKey, rest, restKey] = [schema.items, "items", schema.additionalItems ?? true, "additionalItems"];
  } else {
    if (schema.prefixItems !== undefined && !Array.isArray(schema.prefixItems)) {
      throw new SchemaError([...path, "prefixItems"], "'prefixItems' must be an array of schemas");
    }
    [prefix, prefixKey, rest, restKey] = [(schema.prefixItems as unknown[] | undefined) ?? [], "prefixItems", schema.items ?? true, "items"];
  }
  const min = readCount(schema, "minItems", path) ?? 0;
  let max = readCount(schema, "maxItems", path) ?? Number.POSITIVE_INFINITY;
  if (rest === false) max = Math.min(max, prefix.length);
  if (min > max) return ctx.nothing();

  const open = ctx.literal("[");
  const close = ctx.literal("]");
  const comma = ctx.separator(",");
  const restNode = rest === false ? null : ctx.compile(rest, [...path, restKey]);
  const prefixNodes = prefix.map((p, i) => ctx.compile(p, [...path, prefixKey, i]));

  if (prefixNodes.length === 0) {
    if (!restNode) return min === 0 ? g.seq([open, close]) : ctx.nothing();
    return g.seq([open, g.repeat(restNode, min, max, comma), close]);
  }
  // after(i): what may follow once i >= 1 items were written.
  const after = (i: number): GrammarNode => {
    if (i >= prefixNodes.length) {
      if (!restNode) return i >= min ? g.empty() : ctx.nothing();
      return g.repeat(g.seq([comma, restNode]), Math.max(0, min - i), max - i, null);
    }
    const options: GrammarNode[] = [];
    if (i >= min) options.push(g.empty());
    if (i < max) options.push(g.seq([comma, prefixNodes[i], after(i + 1)]));
    return options.length === 0 ? ctx.nothing() : g.alt(options);
  };
  if (max === 0) return g.seq([open, close]);
  const first = g.seq([prefixNodes[0], after(1)]);
  const body = min === 0 ? g.alt([first, g.empty()]) : first;
  return g.seq([open, body, close]);
}
