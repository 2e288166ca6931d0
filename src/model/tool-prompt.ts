/**
 * The fallback for chat templates that know nothing of tools (their source
 * never names the `tools` variable, like a plain ChatML template): tools and the
 * tool-call history become ordinary text in the Hermes / Qwen2.5 format,
 * which many open models are trained on and the server parses back:
 *
 * - the tools are listed in a system preamble (Qwen2.5's own wording),
 *   appended to the first system or developer message, or prepended as a
 *   system message when there is none;
 * - an assistant turn's calls follow its text, one
 *   `<tool_call>\n{"name": …, "arguments": {…}}\n</tool_call>` each;
 * - tool results become a user turn of
 *   `<tool_response>\n…\n</tool_response>` blocks (consecutive results
 *   share one turn), since such templates have no tool role.
 *
 * The template then renders plain system/user/assistant messages.
 */
import type { JsonValue } from "../domain.ts";
import { pythonJson } from "./python-json.ts";
import type { TemplateMessage, TemplateTool, TemplateToolCall } from "./template-input.ts";

export const TOOL_CALL_OPEN = "<tool_call>";
export const TOOL_CALL_CLOSE = "</tool_call>";

export function toolPreamble(tools: TemplateTool[]): string {
  return [
    "# Tools",
    "",
    "You may call one or more functions to assist with the user query.",
    "",
    "You are provided with function signatures within <tools></tools> XML tags:",
    "<tools>",
    ...tools.map((tool) => pythonJson(tool as unknown as JsonValue)),
    "</tools>",
    "",
    "For each function call, return a json object with function name and arguments within <tool_call></tool_call> XML tags:",
    TOOL_CALL_OPEN,
    '{"name": <function-name>, "arguments": <args-json-object>}',
    TOOL_CALL_CLOSE,
  ].join("\n");
}

/** One call as the model writes it; arguments that were not a JSON object are shown as they were sent. */
export function toolCallText(call: TemplateToolCall): string {
  const args = call.function.arguments;
  const argsText = typeof args === "string" ? args : pythonJson(args);
  return `${TOOL_CALL_OPEN}\n{"name": ${JSON.stringify(call.function.name)}, "arguments": ${argsText}}\n${TOOL_CALL_CLOSE}`;
}

const toolResponse = (content: string): string => `<tool_response>\n${content}\n</tool_response>`;

/** The messages with tools and the tool-call history written as text, for a template without tool support. */
export function withToolsAsText(messages: TemplateMessage[], tools: TemplateTool[] | null): TemplateMessage[] {
  const out: TemplateMessage[] = [];
  // The user turn that holds the results of the tool messages just before; null after any other message.
  let results: TemplateMessage | null = null;
  for (const m of messages) {
    if (m.role === "tool") {
      if (results === null) {
        results = { role: "user", content: toolResponse(m.content) };
        out.push(results);
      } else {
        results.content += `\n${toolResponse(m.content)}`;
      }
      continue;
    }
    results = null;
    const { tool_calls: calls, tool_call_id: _unused, ...rest } = m;
    if (calls === undefined || calls.length === 0) {
      out.push({ ...rest });
      continue;
    }
    const text = calls.map(toolCallText).join("\n");
    out.push({ ...rest, content: rest.content === "" ? text : `${rest.content}\n${text}` });
  }
  if (tools === null || tools.length === 0) return out;
  const preamble = toolPreamble(tools);
  const first = out[0];
  if (first !== undefined && (first.role === "system" || first.role === "developer")) {
    out[0] = { ...first, content: first.content === "" ? preamble : `${first.content}\n\n${preamble}` };
    return out;
  }
  return [{ role: "system", content: preamble }, ...out];
}
