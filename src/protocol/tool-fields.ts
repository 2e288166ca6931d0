/**
 * `tools`, `tool_choice` and `parallel_tool_calls` -> ToolSettings. The
 * shapes and OpenAI's rules between the three fields are checked here; each
 * tool's `parameters` schema is compiled, and refused with its path, by the
 * engine (src/engine/check-tools.ts), as response_format schemas are.
 */
import { z } from "zod";
import type { ToolChoice, ToolFunction, ToolSettings } from "../domain.ts";
import { invalidRequest, unsupportedField } from "../errors.ts";
import { nestsDeeperThan } from "../json-depth.ts";
import { text } from "./fields.ts";
import { formatParam, isPlainObject } from "./request-errors.ts";

/** OpenAI's limit on tools per request. */
export const MAX_TOOLS = 128;

/** Schemas are rendered into prompts and compiled by recursion; the compiler itself refuses schema objects nested deeper than 64. */
const MAX_PARAMETERS_DEPTH = 128;

const FUNCTION_NAME = /^[A-Za-z0-9_-]{1,64}$/;

/** What OpenAI assumes for a function sent without parameters: no arguments. */
const NO_PARAMETERS = { type: "object", properties: {} };

const functionTool = z.strictObject(
  {
    type: z.literal("function", { error: "expected 'function'" }),
    function: z.strictObject(
      {
        name: z.string({ error: "expected a name" }).regex(FUNCTION_NAME, { error: "expected 1 to 64 letters, digits, underscores or dashes" }),
        description: text.nullish(),
        parameters: z.record(z.string(), z.unknown(), { error: "expected a JSON Schema object" }).nullish(),
        // Calls are constrained to the schema whenever constrained decoding applies; `strict` asks for nothing more.
        strict: z.boolean({ error: "expected a boolean" }).nullish(),
      },
      { error: "expected an object with 'name'" },
    ),
  },
  { error: "expected an object with 'type' and 'function'" },
);

export const toolFields = {
  tools: z
    .array(functionTool, { error: "expected an array of tools" })
    .max(MAX_TOOLS, { error: `at most ${MAX_TOOLS} tools are allowed` })
    .nullish(),
  tool_choice: z
    .union(
      [
        z.enum(["none", "auto", "required"]),
        z.strictObject({
          type: z.literal("function", { error: "expected 'function'" }),
          function: z.strictObject({ name: z.string({ error: "expected a name" }) }, { error: "expected an object with 'name'" }),
        }),
      ],
      { error: "expected 'none', 'auto', 'required' or {\"type\": \"function\", \"function\": {\"name\": …}}" },
    )
    .nullish(),
  parallel_tool_calls: z.boolean({ error: "expected a boolean" }).nullish(),
};

type ToolFieldValues = z.output<z.ZodObject<typeof toolFields>>;

/** Known OpenAI tool kinds this server does not offer: "not supported" rather than a shape error. */
export function rejectUnsupportedToolParts(body: Record<string, unknown>): void {
  if (Array.isArray(body.tools)) {
    body.tools.forEach((tool, i) => {
      if (isPlainObject(tool) && typeof tool.type === "string" && tool.type !== "function") {
        throw unsupportedField(formatParam(["tools", i, "type"]), ` (tools of type '${tool.type}'; only 'function' tools are supported)`);
      }
    });
  }
  const choice = body.tool_choice;
  if (isPlainObject(choice) && typeof choice.type === "string" && choice.type !== "function") {
    throw unsupportedField("tool_choice", ` (tool_choice of type '${choice.type}')`);
  }
}

/**
 * OpenAI's defaults: "auto" when tools are offered, "none" otherwise; a
 * choice other than "none" needs tools, and a named one must be offered.
 * Tools offered with "none" are kept: they are still shown to the model
 * (as OpenAI does), and the output side never returns calls for them.
 */
export function toToolSettings(fields: ToolFieldValues, maxSchemaBytes: number): ToolSettings | null {
  const tools = (fields.tools ?? []).map(toToolFunction);
  tools.forEach((tool, i) => {
    if (nestsDeeperThan(tool.parameters, MAX_PARAMETERS_DEPTH)) {
      const param = formatParam(["tools", i, "function", "parameters"]);
      throw invalidRequest(`Invalid value for '${param}': the schema nests more than ${MAX_PARAMETERS_DEPTH} levels deep.`, param, "invalid_schema");
    }
    const bytes = Buffer.byteLength(JSON.stringify(tool.parameters));
    if (bytes > maxSchemaBytes) {
      const param = formatParam(["tools", i, "function", "parameters"]);
      throw invalidRequest(`The schema in '${param}' is ${bytes} bytes; this server accepts schemas up to ${maxSchemaBytes} bytes.`, param, "schema_too_large");
    }
    if (tools.findIndex((t) => t.name === tool.name) !== i) {
      const param = formatParam(["tools", i, "function", "name"]);
      throw invalidRequest(`Invalid value for '${param}': the function name '${tool.name}' is offered twice.`, param, "invalid_value");
    }
  });
  const choice = toToolChoice(fields.tool_choice, tools.length > 0);
  if (tools.length === 0) {
    if (choice.kind !== "none") {
      throw invalidRequest("Invalid value for 'tool_choice': only 'none' is allowed when no 'tools' are offered.", "tool_choice", "invalid_value");
    }
    // parallel_tool_calls without tools asks for nothing, like "none": accepted.
    return null;
  }
  if (choice.kind === "function" && !tools.some((t) => t.name === choice.name)) {
    throw invalidRequest(`Invalid value for 'tool_choice': the function '${choice.name}' is not among 'tools'.`, "tool_choice", "invalid_value");
  }
  return { tools, choice, parallel: fields.parallel_tool_calls ?? true };
}

function toToolFunction(tool: z.output<typeof functionTool>): ToolFunction {
  const out: ToolFunction = { name: tool.function.name, parameters: tool.function.parameters ?? NO_PARAMETERS };
  if (tool.function.description != null) out.description = tool.function.description;
  return out;
}

function toToolChoice(value: ToolFieldValues["tool_choice"], haveTools: boolean): ToolChoice {
  if (value == null) return { kind: haveTools ? "auto" : "none" };
  if (typeof value === "string") return { kind: value };
  return { kind: "function", name: value.function.name };
}

