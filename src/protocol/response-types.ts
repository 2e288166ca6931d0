/** Shapes of what the server sends back, following the OpenAI API. */
import type { FinishReason, TokenLogprob, ToolCall, Usage } from "../domain.ts";
import { toWireUsage, type WireTokenLogprob, type WireUsage } from "./wire-values.ts";
import type { TokenEvent } from "../engine/engine.ts";

export type DeltaEvent = Extract<TokenEvent, { type: "delta" }>;
export type FinishEvent = Extract<TokenEvent, { type: "finish" }>;

/** A tool call in a chat.completion message. */
export interface WireToolCall {
  id: string;
  type: "function";
  function: { name: string; arguments: string };
}

/** A piece of a tool call in a chunk: the first carries id, type and name; the rest only arguments. */
export interface WireToolCallDelta {
  index: number;
  id?: string;
  type?: "function";
  function: { name?: string; arguments: string };
}

/** Identity shared by every chunk of one response. */
export interface ResponseIdentity {
  id: string;
  /** Unix seconds. */
  created: number;
  model: string;
}

/** One choice collected from the event stream for a non-streamed answer. */
export interface CollectedChoice {
  index: number;
  text: string;
  /** The model's thinking (chat, for models with thinking tags); "" when none. */
  reasoning: string;
  /** The tool calls it made (chat, with tools offered). */
  toolCalls: ToolCall[];
  finishReason: FinishReason | null;
  /** null when logprobs were not requested. */
  logprobs: TokenLogprob[] | null;
}

export interface ChatLogprobs {
  content: WireTokenLogprob[];
  refusal: null;
}

export interface ChatCompletion extends ResponseIdentity {
  object: "chat.completion";
  choices: Array<{
    index: number;
    message: {
      role: "assistant";
      /** null when the turn is only tool calls, as OpenAI sends it. */
      content: string | null;
      refusal: null;
      tool_calls?: WireToolCall[];
      reasoning_content?: string;
    };
    logprobs: ChatLogprobs | null;
    finish_reason: FinishReason | null;
  }>;
  usage: WireUsage;
  system_fingerprint: null;
}

export interface ChatCompletionChunk extends ResponseIdentity {
  object: "chat.completion.chunk";
  choices: Array<{
    index: number;
    delta: { role?: "assistant"; content?: string; reasoning_content?: string; tool_calls?: WireToolCallDelta[] };
    logprobs: ChatLogprobs | null;
    finish_reason: FinishReason | null;
  }>;
  system_fingerprint: null;
  /** Present (null until the last chunk) only when the client asked for usage. */
  usage?: WireUsage | null;
}

export interface CompletionLogprobs {
  tokens: string[];
  token_logprobs: number[];
  top_logprobs: Array<Record<string, number>>;
  /** Character offset of each token within this choice's generated text. */
  text_offset: number[];
}

export interface TextCompletionChoice {
  index: number;
  text: string;
  logprobs: CompletionLogprobs | null;
  finish_reason: FinishReason | null;
}

export interface TextCompletion extends ResponseIdentity {
  object: "text_completion";
  choices: TextCompletionChoice[];
  usage?: WireUsage | null;
  system_fingerprint: null;
}

/** Turns engine events into the chunks of one streamed response; stateful per response. */
export interface StreamFormatter<Chunk extends object = object> {
  /** Chunks sent as soon as the request is admitted, before any token. */
  opening(n: number): Chunk[];
  delta(event: DeltaEvent): Chunk;
  finish(event: FinishEvent): Chunk;
  usage(usage: Usage): Chunk;
}

/**
 * The chunk builder both streaming endpoints share: every chunk carries the
 * same id, created and model; with include_usage every chunk has
 * `usage: null` except the final usage chunk, as OpenAI does.
 */
export function chunkBuilder<Object extends string, Choice>(
  identity: ResponseIdentity,
  object: Object,
  includeUsage: boolean,
): (choices: Choice[], usage?: Usage) => ResponseIdentity & { object: Object; choices: Choice[]; system_fingerprint: null; usage?: WireUsage | null } {
  return (choices, usage) => ({
    id: identity.id,
    object,
    created: identity.created,
    model: identity.model,
    choices,
    system_fingerprint: null,
    ...(includeUsage ? { usage: usage === undefined ? null : toWireUsage(usage) } : {}),
  });
}

/** A whole (non-streamed) answer: the response identity, its choices and its usage, as OpenAI shapes both endpoints. */
export function completionObject<Object extends string, Choice>(
  identity: ResponseIdentity,
  object: Object,
  choices: Choice[],
  usage: Usage,
): ResponseIdentity & { object: Object; choices: Choice[]; usage: WireUsage; system_fingerprint: null } {
  return {
    id: identity.id,
    object,
    created: identity.created,
    model: identity.model,
    choices,
    usage: toWireUsage(usage),
    system_fingerprint: null,
  };
}
