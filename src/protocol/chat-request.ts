/**
 * POST /v1/chat/completions body -> ParsedGenerationRequest. The only place
 * a raw chat body is interpreted; the engine sees just the Valid* result.
 */
import { z } from "zod";
import { invalidRequest } from "../errors.ts";
import { boundedInteger, positiveInteger } from "./fields.ts";
import { messagesField, rejectUnsupportedMessageParts, toChatMessages } from "./chat-messages.ts";
import { informationalFields, toRequestLabels } from "./informational-fields.ts";
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
import { acceptOnlyUnset, isPlainObject, rejectUnsupported, zodErrorToApiError, type UnsupportedFields } from "./request-errors.ts";
import { templateKwargsField } from "./template-kwargs.ts";
import { rejectUnsupportedToolParts, toToolSettings, toolFields } from "./tool-fields.ts";

const UNSUPPORTED_BODY_FIELDS: UnsupportedFields = {
  // The pre-tools API: clients that still send it get told, rather than silently losing their functions.
  functions: acceptOnlyUnset,
  function_call: (v) => v === "none",
  audio: acceptOnlyUnset,
  modalities: (v) => Array.isArray(v) && v.every((m) => m === "text"),
  prediction: acceptOnlyUnset,
  web_search_options: acceptOnlyUnset,
  reasoning_effort: acceptOnlyUnset,
  store: (v) => v === false,
};

/** Fields that passed rejectUnsupported only hold values meaning "off": the schema lets them through unread. */
const ignoredWhenUnset = z.unknown().optional();

function chatSchema(limits: ProtocolLimits) {
  const unsupported = Object.fromEntries(Object.keys(UNSUPPORTED_BODY_FIELDS).map((k) => [k, ignoredWhenUnset]));
  return z.strictObject(
    {
      ...unsupported,
      ...commonShape(limits),
      ...toolFields,
      ...informationalFields,
      messages: messagesField,
      chat_template_kwargs: templateKwargsField,
      max_completion_tokens: positiveInteger.nullish(),
      logprobs: z.boolean({ error: "expected a boolean" }).nullish(),
      top_logprobs: boundedInteger(0, 20).nullish(),
      response_format: responseFormatField,
    },
    { error: "The request body must be a JSON object" },
  );
}

const cachedChatSchema = perLimits(chatSchema);

export function parseChatRequest(body: unknown, limits: ProtocolLimits): ParsedGenerationRequest {
  if (!isPlainObject(body)) throw invalidRequest("The request body must be a JSON object.");
  rejectUnsupported(body, UNSUPPORTED_BODY_FIELDS);
  rejectUnsupportedToolParts(body);
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

  const messages = toChatMessages(fields.messages);
  const tools = toToolSettings(fields, limits.maxSchemaBytes);
  const templateKwargs = fields.chat_template_kwargs ?? {};
  const calling = tools !== null && tools.choice.kind !== "none" && tools.tools.length > 0;
  if (constraint && calling) {
    // The answer would have to be one JSON value and may be calls: no output can promise both.
    throw invalidRequest("A JSON 'response_format' cannot be combined with 'tools' unless 'tool_choice' is \"none\".", "response_format", "invalid_value");
  }
  if (calling && stop.length > 0 && (tools.choice.kind === "required" || tools.choice.kind === "function")) {
    // As with a JSON response_format: a stop string could cut the call the request forces.
    throw invalidRequest("'stop' cannot be combined with a 'tool_choice' that forces a call: generation ends when the calls are complete.", "stop", "invalid_value");
  }

  return {
    ...httpFields(fields),
    ...toRequestLabels(fields),
    request: {
      prompt: { kind: "chat", messages, tools: tools?.tools ?? [], templateKwargs },
      sampling: toSamplingParams(fields),
      maxTokens,
      stop,
      n: fields.n ?? 1,
      logprobs: fields.logprobs === true ? (fields.top_logprobs ?? 0) : null,
      promptParam: "messages",
      constraint,
      tools,
    },
  };
}
