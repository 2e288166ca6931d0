/**
 * Every message between the engine (main thread) and a model worker. Both
 * sides import these types, so a change to the protocol is a compile error on
 * both ends. Token ids cross as typed arrays.
 */
import type { PromptInput, SamplingParams, TokenLogprob } from "../domain.ts";

export interface WorkerInit {
  modelPath: string;
  device: "cpu" | "cuda";
  threads: number | "auto";
  /** Cores this worker may use: what "auto" threads means for a model that is not small. */
  cores: number;
  /** Prompt tokens prefilled per step, across rows. */
  prefillChunk: number;
  ortSpinning: "auto" | "on" | "off";
}

export interface AdmitRow {
  rowId: number;
  promptIds: Int32Array;
  sampling: SamplingParams;
  /** Resolved seed (the engine draws one when the request gave none). */
  seed: number;
  /** The choice index: rows of one request share a seed but not a random stream. */
  stream: number;
  /** null: no logprobs; n: the number of top alternatives to report. */
  logprobs: number | null;
  /** The worker ends the row by itself after this many tokens or an EOS id, without waiting for a release. */
  maxTokens: number;
  eosIds: readonly number[];
}

export type ToWorker =
  | { type: "encode"; requestId: number; prompt: PromptInput }
  /**
   * Admit new rows and release ended ones at the next step boundary. The
   * worker steps on its own while it holds rows; no message per step.
   */
  | { type: "control"; admit: AdmitRow[]; release: Int32Array; sentAt: number }
  | { type: "shutdown" }
  /** Fault injection for tests: the thread dies with an uncaught error at its next step boundary. */
  | { type: "crash" };

/** What a worker learned from the session and the tokenizer, sent once. */
export interface WorkerModelInfo {
  /** Width of the logits: ids at or past it are invalid for this model. */
  vocabSize: number;
  tokenizerSize: number;
  /** Longest vocabulary entry: bounds how much text one token can cover. */
  maxTokenChars: number;
  inputNames: string[];
  outputNames: string[];
  kvLayout: "separate" | "stacked";
  kvDtype: "float32" | "float16";
  idsDtype: "int32" | "int64";
  executionProvider: string;
  /** ONNX Runtime intra-op threads and spinning, as resolved from the options and the model's size. */
  intraOpThreads: number;
  spinning: boolean;
  /** How decode batches place new KV positions; null: the model runs one row per run. */
  batchPlacement: "appended" | "in-place" | null;
  batchProbe: string;
  /** False when the model takes only one new token after a cached past: prompts are prefilled whole. */
  chunkedPrefill: boolean;
}

export interface SerializedApiError {
  status: number;
  type: "invalid_request_error" | "authentication_error" | "rate_limit_error" | "server_error";
  message: string;
  param: string | null;
  code: string | null;
}

/** One sampled token per row that produced one this step (prefilling rows may not), in `rowIds` order. */
export interface StepResult {
  type: "stepDone";
  stepId: number;
  rowIds: Int32Array;
  tokens: Int32Array;
  /** Newly stable text per row (UTF-8-safe; may be empty). */
  texts: string[];
  /** Per row: the token's logprob and top alternatives when asked, else null. */
  logprobs: Array<TokenLogprob | null>;
  /** Rows the worker dropped at this boundary (released, or ended by EOS / max tokens): their KV is freed. */
  released: Int32Array;
  /**
   * Per released row (same order): milliseconds from the engine sending its
   * release to the row leaving the batch, which is the end of the step that
   * was running when the release arrived, or the arrival itself between
   * steps. NaN for a row that ended by itself.
   */
  releaseMs: Float64Array;
  /** The same in steps: divided by the duration of the step the release waited on (row-stepper.ts). */
  releaseSteps: Float64Array;
  /** How long this step took, from building its feeds to its last row's text. */
  stepMs: number;
}

export type FromWorker =
  | { type: "ready"; info: WorkerModelInfo }
  | { type: "initError"; message: string }
  | { type: "encoded"; requestId: number; ids: Int32Array }
  | { type: "encodeError"; requestId: number; error: SerializedApiError }
  | StepResult
  /** The step failed; the worker dropped every row it held. */
  | { type: "stepError"; stepId: number; message: string };
