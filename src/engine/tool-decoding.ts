/**
 * How a request's tools steer decoding. tool_choice "required" or a named
 * function: the whole output is constrained to calls in the model's own
 * syntax, with arguments valid against the function's parameters. "auto":
 * free text, until the model opens a call (its marker), then the rest of
 * that call (for Mistral, the array of calls) is constrained the same way.
 * "none" (or no tools): nothing.
 */
import type { OutputConstraint, ToolCallLayout, ValidGenerationRequest } from "../domain.ts";
import { TOOL_CALL_SYNTAX, type ToolCallFormat, type ToolCallSyntax } from "../generation/tools/tool-call-format.ts";
import type { ToolTrigger } from "../worker/messages.ts";

/**
 * The grammar's view of a syntax. Formats with markers around each call
 * (Hermes) put them in open/close, so that tool_choice auto can start a
 * constraint at the open marker; array and bare formats write their
 * canonical text around the list of calls.
 */
export function layoutOf(syntax: ToolCallSyntax): ToolCallLayout {
  if (!syntax.array && syntax.openMarker !== null && syntax.closeMarker !== null) {
    return { before: "", open: syntax.openMarker, close: syntax.closeMarker, between: "\n", after: "", argumentsKey: syntax.argumentsKey };
  }
  const { before, between, after } = syntax.canonical;
  return { before, open: "", close: "", between, after, argumentsKey: syntax.argumentsKey };
}

export interface ToolDecoding {
  constraint: OutputConstraint | null;
  /** Without its reasoning part, known only once the prompt is rendered (EngineRequest.toolTrigger). */
  toolTrigger: Omit<ToolTrigger, "reasoning"> | null;
}

export function toolDecoding(valid: ValidGenerationRequest, format: ToolCallFormat): ToolDecoding {
  const tools = valid.tools;
  if (!tools || tools.choice.kind === "none" || tools.tools.length === 0) return { constraint: valid.constraint, toolTrigger: null };
  const choice = tools.choice;
  const functions = tools.tools
    .filter((t) => choice.kind !== "function" || t.name === choice.name)
    .map((t) => ({ name: t.name, parameters: t.parameters }));
  const layout = layoutOf(TOOL_CALL_SYNTAX[format]);
  const parallel = tools.parallel && choice.kind !== "function";
  if (choice.kind === "required" || choice.kind === "function") {
    return { constraint: { kind: "tool_calls", layout, functions, parallel, bodyOnly: false }, toolTrigger: null };
  }
  // auto: only a syntax with an opening marker says when a call begins. (A JSON response_format never comes with tools: 400 in the protocol.)
  const syntax = TOOL_CALL_SYNTAX[format];
  if (syntax.array && syntax.openMarker !== null) {
    // Mistral: after [TOOL_CALLS] comes the array of every call of the turn; the row ends with it.
    const array = { ...layout, before: syntax.canonical.before.slice(syntax.openMarker.length).trimStart() };
    return { constraint: null, toolTrigger: { open: syntax.openMarker, body: { kind: "tool_calls", layout: array, functions, parallel, bodyOnly: true }, parallel: false } };
  }
  if (layout.open === "") return { constraint: null, toolTrigger: null };
  return {
    constraint: null,
    toolTrigger: { open: layout.open, body: { kind: "tool_calls", layout, functions, parallel: false, bodyOnly: true }, parallel },
  };
}
