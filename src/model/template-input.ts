/**
 * A chat prompt in the shape Hugging Face chat templates read, as
 * transformers' apply_chat_template passes it: `tools` as
 * [{type: "function", function: {name, description, parameters}}], an
 * assistant turn's calls as `tool_calls` [{id, type: "function",
 * function: {name, arguments}}] with the arguments parsed into an object
 * (templates write them with `tojson`), a tool turn with `tool_call_id`.
 */
import type { ChatMessage, ChatRole, JsonValue, PromptInput, ToolCall, ToolFunction } from "../domain.ts";
import { nestsDeeperThan } from "../json-depth.ts";

export interface TemplateToolCall {
  id: string;
  type: "function";
  /** `arguments`: the parsed object, or the text as sent when it is not a JSON object (the template then shows what the model wrote). */
  function: { name: string; arguments: JsonValue };
}

export interface TemplateMessage {
  role: ChatRole;
  content: string;
  name?: string;
  tool_call_id?: string;
  tool_calls?: TemplateToolCall[];
  /** As Qwen3's and DeepSeek-R1's templates read an earlier turn's thinking (most leave it out of the prompt). */
  reasoning_content?: string;
}

export interface TemplateTool {
  type: "function";
  function: { name: string; description?: string; parameters: JsonValue };
}

export interface TemplateInput {
  messages: TemplateMessage[];
  /** null when the request offers none: templates test `tools is not none`. */
  tools: TemplateTool[] | null;
  /** chat_template_kwargs, as extra template variables. */
  kwargs: Record<string, JsonValue>;
}

type ChatPrompt = Extract<PromptInput, { kind: "chat" }>;

export function toTemplateInput(prompt: ChatPrompt): TemplateInput {
  const tools = prompt.tools ?? [];
  return {
    messages: prompt.messages.map(toTemplateMessage),
    tools: tools.length > 0 ? tools.map(toTemplateTool) : null,
    kwargs: prompt.templateKwargs ?? {},
  };
}

export function toTemplateMessage(m: ChatMessage): TemplateMessage {
  const out: TemplateMessage = { role: m.role, content: m.content };
  if (m.name !== undefined) out.name = m.name;
  if (m.toolCallId !== undefined) out.tool_call_id = m.toolCallId;
  if (m.toolCalls !== undefined && m.toolCalls.length > 0) out.tool_calls = m.toolCalls.map(toTemplateToolCall);
  if (m.reasoningContent !== undefined) out.reasoning_content = m.reasoningContent;
  return out;
}

function toTemplateToolCall(call: ToolCall): TemplateToolCall {
  return { id: call.id, type: "function", function: { name: call.name, arguments: parseArguments(call.arguments) } };
}

/** Arguments nesting deeper are shown as text: rendering recurses through them. */
const MAX_ARGUMENT_DEPTH = 64;

/** Objects only: templates write `arguments | tojson` or iterate its items, which a number or a list would break. */
function parseArguments(text: string): JsonValue {
  // No text is no arguments, as OpenAI reads it (the fallback would otherwise write `"arguments": }`).
  if (text.trim() === "") return {};
  try {
    const value: unknown = JSON.parse(text);
    const isObject = typeof value === "object" && value !== null && !Array.isArray(value);
    if (isObject && !nestsDeeperThan(value, MAX_ARGUMENT_DEPTH)) return value as JsonValue;
  } catch {
    // Not JSON: a model's malformed call, sent back as it was written.
  }
  return text;
}

function toTemplateTool(tool: ToolFunction): TemplateTool {
  // Key order as OpenAI documents it and transformers' get_json_schema writes it: templates `tojson` the whole tool.
  const fn: TemplateTool["function"] = {
    name: tool.name,
    ...(tool.description !== undefined ? { description: tool.description } : {}),
    // The protocol layer passes the client's JSON Schema through as parsed, so it is JSON data.
    parameters: tool.parameters as JsonValue,
  };
  return { type: "function", function: fn };
}
