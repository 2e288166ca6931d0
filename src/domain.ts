/**
 * The types every layer shares: what a generation request is once parsed,
 * and what it produces. This module imports nothing, so protocol/, engine/,
 * worker/, generation/ and model/ can all depend on it without depending on
 * each other. Names here are the server's own; OpenAI's wire names
 * (`prompt_tokens`, `top_logprobs`) appear only in protocol/ and http/.
 */

export type ChatRole = "system" | "developer" | "user" | "assistant" | "tool";

export interface ChatMessage {
  role: ChatRole;
  /** Text parts are already joined; non-text parts are rejected by the protocol layer. "" for an assistant turn that only called tools. */
  content: string;
  name?: string;
  toolCallId?: string;
  /** An assistant turn's tool calls, as the client sent them back in the history. */
  toolCalls?: ToolCall[];
  /** An assistant turn's reasoning, as the server returned it (`reasoning_content`) and the client sent it back. */
  reasoningContent?: string;
}

/** A function the model may call (`tools[i].function`). */
export interface ToolFunction {
  name: string;
  description?: string;
  /** JSON Schema of the arguments object; `{"type": "object", "properties": {}}` when the client sent none. */
  parameters: unknown;
}

/** `tool_choice`: never call, the model decides, at least one call, or this function. */
export type ToolChoice = { kind: "none" } | { kind: "auto" } | { kind: "required" } | { kind: "function"; name: string };

/** One tool call: in a request's history, or produced by the model. */
export interface ToolCall {
  id: string;
  name: string;
  /** The arguments as JSON text (OpenAI's wire form). */
  arguments: string;
}

/** A JSON value, for chat_template_kwargs. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** What the chat template and the tool-call machinery need to know about tools. */
export interface ToolSettings {
  tools: ToolFunction[];
  choice: ToolChoice;
  /** parallel_tool_calls: more than one call per turn (default true, as OpenAI). */
  parallel: boolean;
}

export type PromptInput =
  | {
      kind: "chat";
      messages: ChatMessage[];
      /** The tools shown to the chat template (absent or []: none). Kept with tool_choice "none": OpenAI still shows them to the model. */
      tools?: ToolFunction[];
      /** chat_template_kwargs: extra template variables (absent: none). */
      templateKwargs?: Record<string, JsonValue>;
    }
  | { kind: "text"; text: string }
  | { kind: "tokens"; ids: number[] };

/** Sampling settings for one row, already validated and defaulted. */
export interface SamplingParams {
  /** 0 means greedy. */
  temperature: number;
  /** 1 means off. */
  topP: number;
  /** 0 means off. */
  topK: number;
  /** 0 means off. */
  minP: number;
  /** null: the engine picks a random seed. */
  seed: number | null;
  presencePenalty: number;
  frequencyPenalty: number;
  /** 1 means off (Hugging Face definition). */
  repetitionPenalty: number;
  /** [tokenId, bias] pairs; token ids are checked against the vocabulary by the engine. */
  logitBias: Array<[number, number]>;
}

/**
 * Structured output: every completed choice is a JSON value of this shape,
 * guaranteed by constrained decoding. `schema` is the client's JSON Schema
 * as sent (plain JSON data; it crosses to the workers as it is).
 */
export type OutputConstraint =
  | { kind: "json_object" }
  | { kind: "json_schema"; name: string; schema: unknown }
  /**
   * Tool calls in the model's own syntax, arguments valid against each
   * function's parameters. `bodyOnly`: the output already holds the opening
   * marker (tool_choice auto, once the model opened a call): only the rest of
   * one call is constrained.
   */
  | { kind: "tool_calls"; layout: ToolCallLayout; functions: Array<{ name: string; parameters: unknown }>; parallel: boolean; bodyOnly: boolean };

/** How a model writes tool calls, as text (see generation/tools/). */
export interface ToolCallLayout {
  /** Before the first call (Mistral's "[TOOL_CALLS]["), "" when calls start bare. */
  before: string;
  /** Around each call: Hermes' "<tool_call>" and "</tool_call>"; "" when none. */
  open: string;
  close: string;
  /** Between two calls: "\n" (Hermes), ", " (Mistral's array). */
  between: string;
  /** After the last call (Mistral's "]"). */
  after: string;
  /** The key of the arguments object: "arguments", or Llama 3's "parameters". */
  argumentsKey: string;
}

/** A generation request as the engine takes it: parsed, typed, defaulted. */
export interface ValidGenerationRequest {
  prompt: PromptInput;
  sampling: SamplingParams;
  /** null: up to the end of the context. */
  maxTokens: number | null;
  stop: string[];
  /** Choices to generate, each its own row. */
  n: number;
  /** null: no logprobs; otherwise how many top alternatives per token (0..20). */
  logprobs: number | null;
  /** The request field to blame for prompt errors ("messages" or "prompt"). */
  promptParam: "messages" | "prompt";
  /** null: free text. */
  constraint: OutputConstraint | null;
  /** Chat only: the tools offered (null: none offered, or a completions request). */
  tools: ToolSettings | null;
}

export interface Usage {
  promptTokens: number;
  completionTokens: number;
  totalTokens: number;
}

/**
 * Why a choice ended: "stop" (EOS or a stop string), "length" (max tokens
 * or the end of the context), "cancelled" (the stop endpoint, a client that
 * left, shutdown), "tool_calls" (the choice ended with tool calls).
 */
export type FinishReason = "stop" | "length" | "cancelled" | "tool_calls";

/**
 * A piece of a tool call as a stream sends it: the first piece of a call
 * has its id and name, later pieces only more of its arguments text.
 */
export interface ToolCallDelta {
  index: number;
  id?: string;
  name?: string;
  arguments: string;
}

/** One alternative token and its log-probability under the model's raw distribution. */
export interface TopLogprob {
  token: string;
  logprob: number;
}

/** The sampled token's log-probability and the most likely alternatives. */
export interface TokenLogprob extends TopLogprob {
  top: TopLogprob[];
}
