/**
 * The narrow interface between HTTP and the engine. Routes see only these
 * types; they never import onnxruntime or worker code, so HTTP tests can run
 * against a fake engine and engine tests can run without HTTP.
 */
import type { Registry } from "prom-client";
import type { FinishReason, TokenLogprob, ToolCallDelta, Usage, ValidGenerationRequest } from "../domain.ts";
import type { ApiError } from "../errors.ts";

export interface SubmitOptions {
  /** The completion id (chatcmpl-… / cmpl-…), made by the route. */
  id: string;
  /** The client's X-Request-Id, usable as a second handle for cancel. */
  clientRequestId?: string;
  /** The API key that created the request; only it may cancel. */
  owner?: string;
  /** Aborted when the client goes away; cancels the generation. */
  signal: AbortSignal;
}

/** The token stream: consumers switch on `type`; `end` and `error` are terminal. */
export type TokenEvent =
  /** `text` is content; `reasoning` the model's thinking (reasoning_content); `toolCalls` pieces of its tool calls. */
  | { type: "delta"; index: number; text: string; logprobs?: TokenLogprob[]; reasoning?: string; toolCalls?: ToolCallDelta[] }
  | { type: "finish"; index: number; finishReason: FinishReason }
  | { type: "end"; usage: Usage }
  | { type: "error"; error: ApiError };

export interface Generation {
  id: string;
  promptTokens: number;
  /** Ending the iteration early (break/return) cancels the generation. */
  events: AsyncIterable<TokenEvent>;
  /** Tokens counted so far; final once the events have ended (with `end` or `error`). */
  usage(): Usage;
}

export interface CancelResult {
  id: string;
  status: "cancelled" | "already_finished";
  usage: Usage;
}

export interface EngineHealth {
  /** True once a real forward pass can run on at least one worker. */
  ready: boolean;
  /** True until the workers have loaded the model for the first time (the server listens meanwhile). */
  loading: boolean;
  workersAlive: number;
  workersTotal: number;
  queued: number;
  running: number;
  shuttingDown: boolean;
}

export interface ModelCard {
  id: string;
  created: number;
  ownedBy: string;
  contextLength: number;
  /** The dtype served (--dtype, auto resolved), its file relative to the folder, and the folder's layout. */
  dtype: string;
  file: string;
  layout: "optimum" | "genai";
  /** Whether response_format json_object / json_schema can be served (the tokenizer allows constrained decoding). */
  structuredOutput: boolean;
}

export interface Engine {
  readonly model: ModelCard;
  /**
   * Admits a request: rejects with ApiError before any output when the queue
   * is full (429), the prompt does not fit (400), or the client id is taken
   * (400 request_id_in_use). Resolves once the request is queued, so the caller may already
   * tell the client its id.
   */
  start(request: ValidGenerationRequest, options: SubmitOptions): Promise<Generation>;
  /** null when the id is unknown (or belongs to another owner). */
  cancel(id: string, owner?: string): CancelResult | null;
  health(): EngineHealth;
  /** The engine's own Prometheus metrics (queue, batch, KV, token timing, cancels); GET /metrics shows them. */
  readonly metricsRegistry: Registry;
  /** Stops admitting, lets in-flight work finish up to graceMs, cancels the rest. */
  close(graceMs: number): Promise<void>;
}
