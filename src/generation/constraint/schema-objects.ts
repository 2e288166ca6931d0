/**
 * Objects: declared properties in the order the schema lists them (required
 * ones always, optional ones maybe), then any additional properties the
 * schema allows. Fixing the order is what lets a grammar guarantee
 * `required` without tracking sets of seen keys; JSON objects are unordered,
 * so every value it writes is still valid. Keys are written without
 * escapes, and without whitespace unless the options allow a space after
 * the separators.
 */
import type { GrammarNode } from "./grammar.ts";
import type { CompileContext } from "./compile-context.ts";
import { SchemaError, isObject, type SchemaPath } from "./schema-error.ts";
import { readProperties, readStringList } from "./schema-keywords.ts";

interface Member {
  node: GrammarNode;
  required: boolean;
}

export function objectNode(ctx: CompileContext, schema: Record<string, unknown>, path: SchemaPath): GrammarNode {
  const g = ctx.grammar;
  const declared = readProperties(schema, path);
  const required = new Set(readStringList(schema, "required", path));
  const additional = schema.additionalProperties ?? true;
  if (typeof additional !== "boolean" && !isObject(additional)) {
    throw new SchemaError([...path, "additionalProperties"], "'additionalProperties' must be a boolean or a schema");
  }
  const names = new Set(declared.map(([name]) => name));
  const members: Member[] = declared.map(([name, value]) => ({
    node: ctx.member(name, ctx.compile(value, [...path, "properties", name])),
    required: required.has(name),
  }));
  // A required key the schema does not describe is still required: its value is whatever additionalProperties allows.
  for (const name of required) {
    if (names.has(name)) continue;
    if (additional === false) return ctx.nothing();
    members.push({ node: ctx.member(name, ctx.compile(additional, [...path, "additionalProperties"])), required: true });
    names.add(name);
  }
  const extra =
    additional === false
      ? null
      : g.seq([ctx.keyString([...names]), ctx.separator(":"), ctx.compile(additional, [...path, "additionalProperties"])]);

  const comma = ctx.separator(",");
  // tail[i]: what may follow once some member was written and members i.. remain (each led by a comma).
  let tail: GrammarNode = extra ? g.repeat(g.seq([comma, extra]), 0, Number.POSITIVE_INFINITY, null) : g.empty();
  // start[i]: the same when nothing was written yet (the first member has no comma).
  let start: GrammarNode = extra ? g.optional(g.seq([extra, tail])) : g.empty();
  for (let i = members.length - 1; i >= 0; i--) {
    const m = members[i];
    const withThis = g.seq([m.node, tail]);
    start = m.required ? withThis : g.alt([withThis, start]);
    tail = m.required ? g.seq([comma, m.node, tail]) : g.seq([g.optional(g.seq([comma, m.node])), tail]);
  }
  return g.seq([ctx.literal("{"), start, ctx.literal("}")]);
}
