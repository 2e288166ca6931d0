/**
 * POST /v1/completions body -> ParsedGenerationRequest (legacy text
 * completions: a string prompt or an array of token ids).
 */
import { z } from "zod";
import { invalidRequest, promptFillsContext, promptOverServerLimit, unsupportedField } from "../errors.ts";
import type { PromptInput } from "../domain.ts";
import { boundedInteger, text } from "./fields.ts";
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
  isPlainObject,
  rejectUnsupported,
  zodErrorToApiError,
  type UnsupportedFields,
} from "./request-errors.ts";

/** OpenAI's documented default for /v1/completions (chat has none). */
export const COMPLETIONS_DEFAULT_MAX_TOKENS = 16;

const UNSUPPORTED_BODY_FIELDS: UnsupportedFields = {
  echo: (v) => v === false,
  suffix: (v) => v === "",
  // best_of == n asks for nothing beyond n samples.
  best_of: (v, body) => v === 1 || v === (body.n ?? 1),
};

const tokenIds = z
  .array(
    z
      .number({ error: "expected token ids (integers >= 0)" })
      .int({ error: "expected token ids (integers >= 0)" })
      .gte(0, { error: "expected token ids (integers >= 0)" }),
    { error: "expected a string or an array of token ids" },
  )
  .min(1, { error: "a token-id prompt must not be empty" });

/** A string, token ids, or a one-element batch of either (which is not really a batch). */
const prompt = z.union([text, tokenIds, z.tuple([text]), z.tuple([tokenIds])], {
  error: "expected a string or an array of token ids",
});

function completionSchema(limits: ProtocolLimits) {
  const unsupported = Object.fromEntries(Object.keys(UNSUPPORTED_BODY_FIELDS).map((k) => [k, z.unknown().optional()]));
  return z.strictObject(
    {
      ...unsupported,
      ...commonShape(limits),
      prompt,
      logprobs: boundedInteger(0, 5).nullish(),
    },
    { error: "The request body must be a JSON object" },
  );
}

function isBatchPrompt(value: unknown): boolean {
  return Array.isArray(value) && value.length > 1 && value.every((p) => typeof p === "string" || Array.isArray(p));
}

function toPromptInput(value: z.output<typeof prompt>): PromptInput {
  if (typeof value === "string") return { kind: "text", text: value };
  const [first] = value;
  if (typeof first === "string") return { kind: "text", text: first };
  if (Array.isArray(first)) return { kind: "tokens", ids: first };
  return { kind: "tokens", ids: value as number[] };
}

const cachedCompletionSchema = perLimits(completionSchema);

/** The ids of a token-id prompt (bare or as a one-element batch), read without walking them; null for text. */
function tokenIdsShape(prompt: unknown): unknown[] | null {
  if (!Array.isArray(prompt) || prompt.length === 0) return null;
  const inner: unknown = prompt.length === 1 && Array.isArray(prompt[0]) ? prompt[0] : prompt;
  return Array.isArray(inner) && typeof inner[0] === "number" ? inner : null;
}

/**
 * A token-id prompt that cannot fit is refused by its length, before the
 * schema checks it id by id on the event loop: millions of ids would
 * otherwise hold every other stream for a second or more.
 */
function refuseOverlongTokenPrompt(prompt: unknown, limits: ProtocolLimits): void {
  const ids = tokenIdsShape(prompt);
  if (ids === null) return;
  if (limits.maxPromptTokens !== null && ids.length > limits.maxPromptTokens) {
    throw promptOverServerLimit(ids.length, limits.maxPromptTokens, "prompt");
  }
  if (ids.length >= limits.contextLength) throw promptFillsContext(ids.length, limits.contextLength, "prompt");
}

export function parseCompletionRequest(body: unknown, limits: ProtocolLimits): ParsedGenerationRequest {
  if (!isPlainObject(body)) throw invalidRequest("The request body must be a JSON object.");
  rejectUnsupported(body, UNSUPPORTED_BODY_FIELDS);
  if (isBatchPrompt(body.prompt)) throw unsupportedField("prompt", " (batched prompts; send one prompt per request)");
  refuseOverlongTokenPrompt(body.prompt, limits);

  const result = cachedCompletionSchema(limits).safeParse(body);
  if (!result.success) throw zodErrorToApiError(result.error);
  const fields = result.data;

  return {
    ...httpFields(fields),
    request: {
      
      prompt: toPromptInput(fields.prompt),
      sampling: toSamplingParams(fields),
      // The default must not trip a cap the client never asked about.
      maxTokens: checkMaxTokens(
        fields.max_tokens ?? Math.min(COMPLETIONS_DEFAULT_MAX_TOKENS, limits.maxTokensCap ?? COMPLETIONS_DEFAULT_MAX_TOKENS),
        "max_tokens",
        limits,
      ),
      stop: fields.stop ?? [],
      n: fields.n ?? 1,
      logprobs: fields.logprobs ?? null,
      promptParam: "prompt",
      constraint: null,
      tools: null,
    },
  };
}
