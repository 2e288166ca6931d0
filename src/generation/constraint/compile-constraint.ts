/** An OutputConstraint -> its grammar, the same way on the request path (to refuse) and in the worker (to generate). */
import type { OutputConstraint } from "../../domain.ts";
import type { Grammar } from "./grammar.ts";
import { compileJsonObject, compileSchema, type SchemaCompileOptions } from "./schema-compiler.ts";

export function compileConstraint(constraint: OutputConstraint, options: SchemaCompileOptions): Grammar {
  return constraint.kind === "json_object" ? compileJsonObject(options) : compileSchema(constraint.schema, options);
}

/** A stable text of a constraint, for caching compiled grammars. */
export const constraintKey = (constraint: OutputConstraint): string =>
  constraint.kind === "json_object" ? "json_object" : `json_schema:${JSON.stringify(constraint.schema)}`;
