/**
 * One streamed POST /v1/chat/completions, timed like a completion stream
 * (completion-client.ts: same pool, same SSE reader, same StreamTiming), with
 * an optional response_format: structured output is a chat feature.
 */
import { postStream, type StreamTiming } from "./completion-client.ts";

export interface ChatSpec {
  baseUrl: string;
  model: string;
  messages: Array<{ role: "system" | "user" | "assistant"; content: string }>;
  maxTokens: number;
  logitBias: Record<string, number>;
  /** `{type: "json_schema", json_schema: {...}}`; absent for free text. */
  responseFormat?: Record<string, unknown>;
  signal?: AbortSignal;
}

export function streamChat(spec: ChatSpec): Promise<StreamTiming> {
  const body: Record<string, unknown> = {
    model: spec.model,
    messages: spec.messages,
    max_tokens: spec.maxTokens,
    temperature: 0,
    stream: true,
    stream_options: { include_usage: true },
    logit_bias: spec.logitBias,
  };
  if (spec.responseFormat) body.response_format = spec.responseFormat;
  return postStream(spec.baseUrl, "/v1/chat/completions", body, spec.signal);
}
