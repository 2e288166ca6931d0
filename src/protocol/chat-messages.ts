/**
 * `messages` of a chat request: the roles, text content, and the tool-call
 * history (an assistant turn's `tool_calls`, a `tool` turn's
 * `tool_call_id`) -> the domain's ChatMessage list.
 */
import { z } from "zod";
import { invalidRequest, unsupportedField } from "../errors.ts";
import type { ChatMessage } from "../domain.ts";
import { text } from "./fields.ts";
import { acceptOnlyUnset, formatParam, isPlainObject, rejectUnsupported, type UnsupportedFields } from "./request-errors.ts";

const UNSUPPORTED_MESSAGE_FIELDS: UnsupportedFields = {
  function_call: acceptOnlyUnset,
  audio: acceptOnlyUnset,
  refusal: acceptOnlyUnset,
};

/** OpenAI content part types we know but do not implement (vs. a typo, which is invalid). */
const UNSUPPORTED_PART_TYPES = new Set(["image_url", "input_audio", "file", "refusal"]);

/** OpenAI tool call types other than "function" (custom tools take free text, which this server does not offer). */
const UNSUPPORTED_CALL_TYPES = new Set(["custom"]);

const ROLES = ["system", "developer", "user", "assistant", "tool"] as const;
const CONTENT_ERROR = "expected a string or an array of text parts";

const textPart = z.strictObject({ type: z.literal("text"), text });
const content = z
  .union([text, z.array(textPart, { error: CONTENT_ERROR })], { error: CONTENT_ERROR })
  .transform((c) => (typeof c === "string" ? c : c.map((part) => part.text).join("")));

const nonEmpty = (what: string) => text.refine((s) => s.length > 0, { error: `expected ${what}` });

/** One call of an assistant turn, as the client sends it back: arguments stay the JSON text the model wrote. */
const toolCall = z.strictObject(
  {
    id: nonEmpty("the call's id"),
    type: z.literal("function", { error: "expected 'function'" }),
    function: z.strictObject(
      {
        name: nonEmpty("a function name"),
        arguments: z.string({ error: "expected the arguments as a JSON string" }),
      },
      { error: "expected an object with 'name' and 'arguments'" },
    ),
  },
  { error: "expected an object with 'id', 'type' and 'function'" },
);

const ignoredWhenUnset = z.unknown().optional();
export const messageField = z.discriminatedUnion(
  "role",
  [
    z.strictObject({ role: z.literal("system"), content, name: text.nullish() }),
    z.strictObject({ role: z.literal("developer"), content, name: text.nullish() }),
    z.strictObject({ role: z.literal("user"), content, name: text.nullish() }),
    z.strictObject({
      role: z.literal("assistant"),
      // Null or absent only beside tool_calls; checked in toChatMessages, which knows both.
      content: content.nullish(),
      name: text.nullish(),
      tool_calls: z.array(toolCall, { error: "expected an array of tool calls" }).min(1, { error: "expected at least one tool call (or no 'tool_calls')" }).nullish(),
      // What the server returned beside content: clients append the whole message to the history.
      reasoning_content: text.nullish(),
      function_call: ignoredWhenUnset,
      audio: ignoredWhenUnset,
      refusal: ignoredWhenUnset,
    }),
    z.strictObject({ role: z.literal("tool"), content, tool_call_id: nonEmpty("the id of the call this answers") }),
  ],
  { error: (issue) => (issue.code === "invalid_union" ? `expected one of ${ROLES.join(", ")}` : undefined) },
);

export const messagesField = z
  .array(messageField, { error: "expected a non-empty array of messages" })
  .min(1, { error: "expected a non-empty array of messages" });

/** Field-level "not supported" beats a generic "invalid" from the schema, so it runs first. */
export function rejectUnsupportedMessageParts(messages: unknown): void {
  if (!Array.isArray(messages)) return;
  messages.forEach((msg, i) => {
    if (!isPlainObject(msg)) return;
    rejectUnsupported(msg, UNSUPPORTED_MESSAGE_FIELDS, `messages[${i}].`);
    if (Array.isArray(msg.tool_calls)) {
      msg.tool_calls.forEach((call, j) => {
        if (isPlainObject(call) && typeof call.type === "string" && UNSUPPORTED_CALL_TYPES.has(call.type)) {
          throw unsupportedField(formatParam(["messages", i, "tool_calls", j, "type"]), ` (tool calls of type '${call.type}')`);
        }
      });
    }
    if (!Array.isArray(msg.content)) return;
    msg.content.forEach((part, j) => {
      if (!isPlainObject(part) || part.type === "text") return;
      const param = formatParam(["messages", i, "content", j, "type"]);
      if (typeof part.type === "string" && UNSUPPORTED_PART_TYPES.has(part.type)) {
        throw unsupportedField(param, ` (content parts of type '${part.type}')`);
      }
      throw invalidRequest(`Invalid value for '${param}': expected 'text'.`, param, "invalid_value");
    });
  });
}

type MessageFields = z.output<typeof messageField>;

export function toChatMessages(messages: MessageFields[]): ChatMessage[] {
  // The calls a tool turn may answer: those of the latest assistant turn, as OpenAI requires.
  let answerable = new Set<string>();
  return messages.map((m, i) => {
    if (m.role === "assistant") answerable = new Set((m.tool_calls ?? []).map((c) => c.id));
    if (m.role === "tool" && !answerable.has(m.tool_call_id)) {
      const param = formatParam(["messages", i, "tool_call_id"]);
      throw invalidRequest(
        `Invalid value for '${param}': a 'tool' message must answer a call of the assistant message before it, and no call there has the id ${JSON.stringify(m.tool_call_id)}.`,
        param,
        "invalid_value",
      );
    }
    if (m.role === "assistant") {
      const calls = m.tool_calls ?? [];
      // OpenAI allows a null content only on a turn that called tools.
      if (m.content == null && calls.length === 0) {
        const param = formatParam(["messages", i, "content"]);
        throw invalidRequest(`Invalid value for '${param}': ${CONTENT_ERROR} (null only beside 'tool_calls').`, param, "invalid_value");
      }
      const out: ChatMessage = { role: "assistant", content: m.content ?? "" };
      if (m.name != null) out.name = m.name;
      if (calls.length > 0) out.toolCalls = calls.map((c) => ({ id: c.id, name: c.function.name, arguments: c.function.arguments }));
      if (m.reasoning_content != null) out.reasoningContent = m.reasoning_content;
      return out;
    }
    if (m.role === "tool") return { role: "tool", content: m.content, toolCallId: m.tool_call_id };
    const out: ChatMessage = { role: m.role, content: m.content };
    if (m.name != null) out.name = m.name;
    return out;
  });
}
