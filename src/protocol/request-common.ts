/**
 * What both generation endpoints share: limits, the parsed result type, the
 * common fields and their conversion to the engine's types.
 */
import { z } from "zod";
import { invalidRequest, unsupportedField } from "../errors.ts";
import type { SamplingParams, ValidGenerationRequest } from "../domain.ts";
import { boundedInteger, positiveInteger, samplingShape, stopField, streamOptionsField, text } from "./fields.ts";

export interface ProtocolLimits {
  maxN: number;
  maxStop: number;
  /** Upper bound for max_tokens; null: only the context limits it (checked by the engine). */
  maxTokensCap: number | null;
  /** The served model's context: a token-id prompt this long or longer is refused by its length alone. */
  contextLength: number;
  /** The server's own prompt limit; null: only the context limits it. */
  maxPromptTokens: number | null;
  /** Largest JSON Schema (as compact JSON) accepted in response_format. */
  maxSchemaBytes: number;
}

/** A request body after parsing: the engine's part plus what only HTTP needs. */
export interface ParsedGenerationRequest {
  /** The requested model id, checked against the served model by the route. */
  model: string;
  stream: boolean;
  /** stream_options.include_usage: send a usage chunk before [DONE]. */
  includeUsage: boolean;
  /** OpenAI's end-user id; used for logging only. */
  user: string | null;
  /** Chat only: OpenAI's `safety_identifier`; used for logging only. */
  safetyIdentifier: string | null;
  /** Chat only: the client's `metadata`; used for logging only. */
  metadata: Record<string, string> | null;
  request: ValidGenerationRequest;
}

export function commonShape(limits: ProtocolLimits) {
  return {
    model: z.string({ error: "expected a model id" }).min(1, { error: "expected a model id" }),
    n: boundedInteger(1, limits.maxN).nullish(),
    stream: z.boolean({ error: "expected a boolean" }).nullish(),
    stream_options: streamOptionsField,
    user: text.nullish(),
    stop: stopField(limits.maxStop),
    max_tokens: positiveInteger.nullish(),
    ...samplingShape(),
  };
}

type SamplingFields = z.output<z.ZodObject<ReturnType<typeof samplingShape>>>;
type CommonFields = z.output<z.ZodObject<ReturnType<typeof commonShape>>>;

export function toSamplingParams(fields: SamplingFields): SamplingParams {
  return {
    temperature: fields.temperature ?? 1,
    topP: fields.top_p ?? 1,
    topK: fields.top_k === -1 || fields.top_k == null ? 0 : fields.top_k,
    minP: fields.min_p ?? 0,
    seed: fields.seed ?? null,
    presencePenalty: fields.presence_penalty ?? 0,
    frequencyPenalty: fields.frequency_penalty ?? 0,
    repetitionPenalty: fields.repetition_penalty ?? 1,
    logitBias: fields.logit_bias ?? [],
  };
}

/** Checks the configured cap; the context-length check needs the prompt and belongs to the engine. */
export function checkMaxTokens(maxTokens: number | null, param: string, limits: ProtocolLimits): number | null {
  if (maxTokens !== null && limits.maxTokensCap !== null && maxTokens > limits.maxTokensCap) {
    throw invalidRequest(
      `Invalid value for '${param}': ${maxTokens} is above this server's limit of ${limits.maxTokensCap}.`,
      param,
      "invalid_value",
    );
  }
  return maxTokens ?? limits.maxTokensCap;
}

/** The HTTP-only fields; stream_options is only meaningful (and only allowed, as OpenAI does) with stream. */
export function httpFields(fields: CommonFields): Omit<ParsedGenerationRequest, "request"> {
  const stream = fields.stream ?? false;
  if (fields.stream_options != null && !stream) {
    throw invalidRequest("'stream_options' is only allowed when 'stream' is true.", "stream_options", "invalid_value");
  }
  if (fields.stream_options?.include_obfuscation === true) {
    throw unsupportedField("stream_options.include_obfuscation", " (the server sends no obfuscation padding; send false or leave it out)");
  }
  return {
    model: fields.model,
    stream,
    includeUsage: fields.stream_options?.include_usage ?? false,
    user: fields.user ?? null,
    safetyIdentifier: null,
    metadata: null,
  };
}

/**
 * Builds a schema once per set of limits: zod schemas are costly to
 * construct (about 1 ms on the event loop), and the limits come from the
 * server's configuration, so a server sees one set.
 */
export function perLimits<T>(build: (limits: ProtocolLimits) => T): (limits: ProtocolLimits) => T {
  const cache = new Map<string, T>();
  return (limits) => {
    const key = `${limits.maxN}|${limits.maxStop}|${limits.maxTokensCap}`;
    let value = cache.get(key);
    if (value === undefined) {
      value = build(limits);
      cache.set(key, value);
    }
    return value;
  };
}
