/**
 * Tools that steer decoding are checked before any work starts, like
 * response_format schemas: the call grammar is compiled the way the worker
 * will compile it, and a refusal names the offered tool's parameter path.
 */
import type { ValidGenerationRequest } from "../domain.ts";
import { invalidRequest } from "../errors.ts";
import { compileConstraint } from "../generation/constraint/compile-constraint.ts";
import type { StructuredOutputSupport } from "../generation/constraint/constraint-vocabulary.ts";
import { SchemaError } from "../generation/constraint/schema-error.ts";
import { DEFAULT_COMPILE_OPTIONS } from "../generation/constraint/schema-compiler.ts";
import { formatParam } from "../protocol/request-errors.ts";
import type { ToolDecoding } from "./tool-decoding.ts";

export function checkToolDecoding(decoding: ToolDecoding, valid: ValidGenerationRequest, support: StructuredOutputSupport): void {
  const tools = valid.tools;
  const calls = decoding.constraint?.kind === "tool_calls" ? decoding.constraint : decoding.toolTrigger?.body;
  if (!tools || !calls || calls.kind !== "tool_calls") return;
  // Without constrained decoding, "auto" still works (calls are parsed); a forced call cannot be guaranteed.
  if (!support.available) {
    if (decoding.toolTrigger) return;
    throw invalidRequest(`'tool_choice' ${tools.choice.kind} needs constrained decoding, which this model's tokenizer does not allow: ${support.reason}.`, "tool_choice", "unsupported_value");
  }
  try {
    compileConstraint(calls, { ...DEFAULT_COMPILE_OPTIONS, asciiOnly: support.asciiOnly });
  } catch (error) {
    if (!(error instanceof SchemaError)) throw error;
    const [index, ...rest] = error.path;
    const name = typeof index === "number" ? calls.functions[index]?.name : undefined;
    const offered = tools.tools.findIndex((t) => t.name === name);
    const param = offered >= 0 ? formatParam(["tools", offered, "function", "parameters", ...rest]) : "tools";
    throw invalidRequest(`Invalid schema at '${param}': ${error.message}.`, param, "invalid_schema");
  }
}
