/** An OutputConstraint -> its grammar, the same way on the request path (to refuse) and in the worker (to generate). */
import type { OutputConstraint } from "../../domain.ts";
import type { Grammar } from "./grammar.ts";
import { compileJsonObject, compileSchema, type SchemaCompileOptions } from "./schema-compiler.ts";
import { compileToolCalls } from "./tool-call-grammar.ts";

export function compileConstraint(constraint: OutputConstraint, options: SchemaCompileOptions): Grammar {
  switch (constraint.kind) {
    case "json_object":
      return compileJsonObject(options);
    case "json_schema":
      return compileSchema(constraint.schema, options);
    case "tool_calls":
      return compileToolCalls(constraint, options);
  }
}

/** A stable text of a constraint, for caching compiled grammars. */
export function constraintKey(constraint: OutputConstraint): string {
  switch (constraint.kind) {
    case "json_object":
      return "json_object";
    case "json_schema":
      return `json_schema:${JSON.stringify(constraint.schema)}`;
    case "tool_calls":
      return `tool_calls:${JSON.stringify([constraint.layout, constraint.functions, constraint.parallel, constraint.bodyOnly])}`;
  }
}
