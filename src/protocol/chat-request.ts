/**
 * POST /v1/chat/completions body -> ParsedGenerationRequest. The only place
 * a raw chat body is interpreted; the engine sees just the Valid* result.
 */
import { z } from "zod";
import { invalidRequest, unsupportedField } from "../errors.ts";
import type { ChatMessage } from "../domain.ts";
import { boundedInteger, positiveInteger, text } from "./fields.ts";
import { responseFormatField, toOutputConstraint } from "./response-format.ts";
import {
  checkMaxTokens,
  commonShape,
  httpFields,
  toSamplingParams,
  type ParsedGenerationRequest,
  perLimits,
  type ProtocolLimits,
} from "./request-common.ts";
import {
  acceptOnlyUnset,
  formatParam,
  isPlainObject,
  rejectUnsupported,
  zodErrorToApiError,
  type UnsupportedFields,
} from "./request-errors.ts";

const UNSUPPORTED_BODY_FIELDS: UnsupportedFields = {
  tools: acceptOnlyUnset,
  tool_choice: (v) => v === "none",
  functions: acceptOnlyUnset,
  function_call: (v) => v === "none",
  parallel_tool_calls: acceptOnlyUnset,
  audio: acceptOnlyUnset,
  modalities: (v) => Array.isArray(v) && v.every((m) => m === "text"),
  prediction: acceptOnlyUnset,
  web_search_options: acceptOnlyUnset,
  reasoning_effort: acceptOnlyUnset,
  service_tier: acceptOnlyUnset,
  store: (v) => v === false,
  metadata: acceptOnlyUnset,
};

const UNSUPPORTED_MESSAGE_FIELDS: UnsupportedFields = {
  tool_calls: acceptOnlyUnset,
  function_call: acceptOnlyUnset,
  audio: acceptOnlyUnset,
  refusal: acceptOnlyUnset,
};

/** OpenAI content part types we know but do not implement (vs. a typo, which is invalid). */
const UNSUPPORTED_PART_TYPES = new Set(["image_url", "input_audio", "file", "refusal"]);

const ROLES = ["system", "developer", "user", "assistant", "tool"] as const;

const textPart = z.strictObject({ type: z.literal("text"), text });
const content = z
  .union([text, z.array(textPart, { error: "expected a string or an array of text parts" })], {
    error: "expected a string or an array of text parts",
  })
  .transform((c) => (typeof c === "string" ? c : c.map((part) => part.text).join("")));

const ignoredWhenUnset = z.unknown().optional();
const message = z.discriminatedUnion(
  "role",
  [
    z.strictObject({ role: z.literal("system"), content, name: text.nullish() }),
    z.strictObject({ role: z.literal("developer"), content, name: text.nullish() }),
    z.strictObject({ role: z.literal("user"), content, name: text.nullish() }),
    z.strictObject({
      role: z.literal("assistant"),
      content,
      name: text.nullish(),
      tool_calls: ignoredWhenUnset,
      function_call: ignoredWhenUnset,
      audio: ignoredWhenUnset,
      refusal: ignoredWhenUnset,
    }),
    z.strictObject({ role: z.literal("tool"), content, tool_call_id: text }),
  ],
  { error: (issue) => (issue.code === "invalid_union" ? `expected one of ${ROLES.join(", ")}` : undefined) },
);

function chatSchema(limits: ProtocolLimits) {
  const unsupported = Object.fromEntries(Object.keys(UNSUPPORTED_BODY_FIELDS).map((k) => [k, ignoredWhenUnset]));
  return z.strictObject(
    {
      ...unsupported,
      ...commonShape(limits),
      messages: z
        .array(message, { error: "expected a non-empty array of messages" })
        .min(1, { error: "expected a non-empty array of messages" }),
      max_completion_tokens: positiveInteger.nullish(),
      logprobs: z.boolean({ error: "expected a boolean" }).nullish(),
      top_logprobs: boundedInteger(0, 20).nullish(),
      response_format: responseFormatField,
    },
    { error: "The request body must be a JSON object" },
  );
}

/** Field-level "not supported" beats a generic "invalid" from the schema, so it runs first. */
function rejectUnsupportedMessageParts(messages: unknown): void {
  if (!Array.isArray(messages)) return;
  messages.forEach((msg, i) => {
    if (!isPlainObject(msg)) return;
    rejectUnsupported(msg, UNSUPPORTED_MESSAGE_FIELDS, `messages[${i}].`);
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

const cachedChatSchema = perLimits(chatSchema);

export function parseChatRequest(body: unknown, limits: ProtocolLimits): ParsedGenerationRequest {
  if (!isPlainObject(body)) throw invalidRequest("The request body must be a JSON object.");
  rejectUnsupported(body, UNSUPPORTED_BODY_FIELDS);
  rejectUnsupportedMessageParts(body.messages);

  const result = cachedChatSchema(limits).safeParse(body);
  if (!result.success) throw zodErrorToApiError(result.error);
  const fields = result.data;

  if (fields.top_logprobs != null && fields.logprobs !== true) {
    throw invalidRequest("'top_logprobs' requires 'logprobs' to be true.", "top_logprobs", "invalid_value");
  }
  const bothMax = fields.max_tokens != null && fields.max_completion_tokens != null;
  if (bothMax && fields.max_tokens !== fields.max_completion_tokens) {
    throw invalidRequest(
      "'max_tokens' and 'max_completion_tokens' disagree; send only 'max_completion_tokens'.",
      "max_tokens",
      "invalid_value",
    );
  }
  const maxTokensParam = fields.max_completion_tokens != null ? "max_completion_tokens" : "max_tokens";
  const maxTokens = checkMaxTokens(fields.max_completion_tokens ?? fields.max_tokens ?? null, maxTokensParam, limits);

  const constraint = toOutputConstraint(fields.response_format, limits.maxSchemaBytes);
  const stop = fields.stop ?? [];
  if (constraint && stop.length > 0) {
    // A stop string would cut the value anywhere; the guarantee is a complete value.
    throw invalidRequest("'stop' cannot be combined with a JSON 'response_format': generation ends when the value is complete.", "stop", "invalid_value");
  }

  const messages: ChatMessage[] = fields.messages.map((m) => {
    const out: ChatMessage = { role: m.role, content: m.content };
    if ("name" in m && m.name != null) out.name = m.name;
    if (m.role === "tool") out.toolCallId = m.tool_call_id;
    return out;
  });

  return {
    ...httpFields(fields),
    request: {
      prompt: { kind: "chat", messages },
      sampling: toSamplingParams(fields),
      maxTokens,
      stop,
      n: fields.n ?? 1,
      logprobs: fields.logprobs === true ? (fields.top_logprobs ?? 0) : null,
      promptParam: "messages",
      constraint,
      tools: null,
      templateKwargs: {},
    },
  };
}
