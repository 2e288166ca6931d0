/**
 * Every message between the engine (main thread) and a model worker. Both
 * sides import these types, so a change to the protocol is a compile error on
 * both ends. Token ids cross as typed arrays.
 */
import type { PromptInput, SamplingParams } from "../engine/types.ts";

export interface WorkerInit {
  modelPath: string;
  device: "cpu" | "cuda";
  threads: number;
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
}

export type ToWorker =
  | { type: "encode"; requestId: number; prompt: PromptInput }
  | { type: "step"; stepId: number; admit: AdmitRow[]; decode: Int32Array; release: Int32Array }
  | { type: "shutdown" };

/** What a worker learned from the session and the tokenizer, sent once. */
export interface WorkerModelInfo {
  /** Width of the logits: ids at or past it are invalid for this model. */
  vocabSize: number;
  tokenizerSize: number;
  inputNames: string[];
  outputNames: string[];
  kvLayout: "separate" | "stacked";
  kvDtype: "float32" | "float16";
  idsDtype: "int32" | "int64";
  executionProvider: string;
}

export interface SerializedApiError {
  status: number;
  type: "invalid_request_error" | "authentication_error" | "rate_limit_error" | "server_error";
  message: string;
  param: string | null;
  code: string | null;
}

export interface StepTokenLogprobs {
  logprob: number;
  top: Array<{ id: number; logprob: number }>;
}

/** One sampled token per row of the step, in the same order as `rowIds`. */
export interface StepResult {
  type: "stepDone";
  stepId: number;
  rowIds: Int32Array;
  tokens: Int32Array;
  /** Newly stable text per row (UTF-8-safe; may be empty). */
  texts: string[];
  /** Per row: the token texts (for logprobs) when asked, else null. */
  logprobs: Array<(StepTokenLogprobs & { tokenText: string; topTexts: string[] }) | null>;
}

export type FromWorker =
  | { type: "ready"; info: WorkerModelInfo }
  | { type: "initError"; message: string }
  | { type: "encoded"; requestId: number; ids: Int32Array }
  | { type: "encodeError"; requestId: number; error: SerializedApiError }
  | StepResult
  | { type: "stepError"; stepId: number; message: string };
