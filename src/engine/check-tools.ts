/**
 * Compiles each offered function's `parameters` the way the constrained
 * decoder will (src/generation/constraint/schema-compiler.ts), so that a
 * schema whose arguments cannot be guaranteed is a 400 naming the keyword
 * (`tools[0].function.parameters.properties.age.multipleOf`) before any work
 * starts, as response_format schemas are. Done for every tool_choice,
 * "none" included: the same request must not be refused or accepted
 * depending on whether the model was allowed to call.
 */
import type { ToolSettings } from "../domain.ts";
import { invalidRequest } from "../errors.ts";
import { SchemaError, isObject } from "../generation/constraint/schema-error.ts";
import { GrammarMatcher } from "../generation/constraint/matcher.ts";
import type { Grammar } from "../generation/constraint/grammar.ts";
import { DEFAULT_COMPILE_OPTIONS, compileSchema } from "../generation/constraint/schema-compiler.ts";
import { asObjectSchema } from "../generation/constraint/tool-call-grammar.ts";
import { formatParam } from "../protocol/request-errors.ts";

export function checkToolSchemas(tools: ToolSettings | null): void {
  if (tools === null) return;
  tools.tools.forEach((tool, i) => {
    const at = (path: ReadonlyArray<string | number>): string => formatParam(["tools", i, "function", "parameters", ...path]);
    // Every call format writes the arguments as a JSON object.
    const type = isObject(tool.parameters) ? tool.parameters.type : undefined;
    if (type !== undefined && type !== "object") {
      throw invalidRequest(`Invalid schema at '${at(["type"])}': a function's parameters must be an object schema ('type': 'object').`, at(["type"]), "invalid_schema");
    }
    let grammar: Grammar;
    try {
      // The model's vocabulary limits (asciiOnly) are applied where calls are constrained: check-tool-decoding.ts.
      grammar = compileSchema(asObjectSchema(tool.parameters), DEFAULT_COMPILE_OPTIONS);
    } catch (error) {
      if (!(error instanceof SchemaError)) throw error;
      throw invalidRequest(`Invalid schema at '${at(error.path)}': ${error.message}.`, at(error.path), "invalid_schema");
    }
    const others = otherValueKinds(grammar);
    if (others.length > 0) {
      throw invalidRequest(
        `Invalid schema at '${at([])}': a function's parameters must only allow objects, and this schema also allows ${others.join(", ")}.`,
        at([]),
        "invalid_schema",
      );
    }
  });
}

/** The kinds of JSON value other than objects the grammar allows, told by the first bytes it accepts. */
function otherValueKinds(grammar: Grammar): string[] {
  const matcher = new GrammarMatcher(grammar);
  const { stacks } = matcher.initial();
  const kinds = new Set<string>();
  const next: number[] = [];
  for (let byte = 0; byte < 256; byte++) {
    if (byte === 0x7b) continue;
    next.length = 0;
    matcher.step(stacks, byte, next);
    if (next.length > 0) kinds.add(VALUE_KIND_BY_FIRST_BYTE[String.fromCharCode(byte)] ?? "other values");
  }
  return [...kinds];
}

const VALUE_KIND_BY_FIRST_BYTE: Record<string, string> = {
  '"': "strings",
  "[": "arrays",
  t: "booleans",
  f: "booleans",
  n: "null",
  "-": "numbers",
  ...Object.fromEntries([..."0123456789"].map((d) => [d, "numbers"])),
};
