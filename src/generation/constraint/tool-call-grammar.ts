/**
 * The grammar of tool calls written in a model's own syntax: markers from
 * the layout around `{"name": "<function>", "<argumentsKey>": <arguments>}`,
 * the arguments valid against that function's parameters. Spaces after `:`
 * and `,` (in the arguments too) and a newline inside the markers are
 * optional, so a model keeps the layout it was trained on (Qwen writes
 * `<tool_call>\n{"name": "f", "arguments": {"city": "Oslo"}}\n`): forcing
 * compact JSON on a model that writes spaces pushes it off its training
 * and spoils the values it writes next.
 */
import type { ToolCallLayout } from "../../domain.ts";
import type { Grammar, GrammarNode } from "./grammar.ts";
import { compileComposite, type GrammarParts, type SchemaCompileOptions } from "./schema-compiler.ts";

export interface ToolCallGrammarRequest {
  layout: ToolCallLayout;
  functions: ReadonlyArray<{ name: string; parameters: unknown }>;
  /** More than one call. */
  parallel: boolean;
  /**
   * Only what follows the opening marker (tool_choice auto): the rest of
   * one call, or with a layout whose calls have no markers of their own
   * (Mistral's array after [TOOL_CALLS]), an optional space then the list
   * of calls from `before` to `after`.
   */
  bodyOnly: boolean;
}

export function compileToolCalls(request: ToolCallGrammarRequest, options: SchemaCompileOptions): Grammar {
  const { layout, functions } = request;
  return compileComposite(
    functions.map((f) => asObjectSchema(f.parameters)),
    { ...options, separatorSpace: true },
    (argumentSchemas, parts) => {
      const text = (t: string): GrammarNode => (t === "" ? parts.grammar.empty() : parts.literal(t));
      const g = parts.grammar;
      const space = g.optional(parts.literal(" "));
      const newline = g.optional(parts.literal("\n"));
      const body = g.alt(
        functions.map((f, i) =>
          g.seq([
            newline,
            parts.literal('{"name":'),
            space,
            parts.literal(`${JSON.stringify(f.name)},`),
            space,
            parts.literal(`${JSON.stringify(layout.argumentsKey)}:`),
            space,
            argumentSchemas[i],
            parts.literal("}"),
            newline,
            text(layout.close),
          ]),
        ),
      );
      const call = g.seq([text(layout.open), body]);
      if (request.bodyOnly && layout.open !== "") return body;
      if (request.bodyOnly) return g.seq([space, text(layout.before), repeatCalls(parts, call, request.parallel, layout.between), text(layout.after)]);
      return g.seq([text(layout.before), repeatCalls(parts, call, request.parallel, layout.between), text(layout.after)]);
    },
  );
}

function repeatCalls(parts: GrammarParts, call: GrammarNode, parallel: boolean, between: string): GrammarNode {
  if (!parallel) return call;
  return parts.grammar.repeat(call, 1, Number.POSITIVE_INFINITY, between === "" ? null : parts.literal(between));
}

/**
 * Arguments are always an object: a parameters schema that names no type
 * (`{}`, or only `properties`) would otherwise also allow strings or
 * numbers, which no client can read as arguments. A schema with
 * combinators and no type is taken as written; check-tools.ts refuses it
 * when it allows anything but objects.
 */
export function asObjectSchema(parameters: unknown): unknown {
  if (typeof parameters !== "object" || parameters === null || Array.isArray(parameters)) return parameters;
  const schema = parameters as Record<string, unknown>;
  const combined = ["type", "anyOf", "oneOf", "allOf", "$ref", "enum", "const"].some((k) => k in schema);
  return combined ? schema : { ...schema, type: "object" };
}
