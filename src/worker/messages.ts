/**
 * Every message between the engine (main thread) and a model worker. Both
 * sides import these types, so a change to the protocol is a compile error on
 * both ends. Token ids and per-row results cross as transferred typed arrays.
 */
import type { ServerConfig } from "../config.ts";
import type { OutputConstraint, PromptInput, SamplingParams, TokenLogprob } from "../domain.ts";
import type { SerializedError } from "../errors.ts";
import type { StructuredOutputSupport } from "../generation/constraint/constraint-vocabulary.ts";

export type WorkerInit = Pick<ServerConfig, "modelPath" | "dtype" | "device" | "threads" | "prefillChunk" | "ortSpinning"> & {
  /** Cores this worker may use: what "auto" threads means for a model that is not small. */
  cores: number;
};

export interface AdmitRow {
  rowId: number;
  promptIds: Int32Array;
  sampling: SamplingParams;
  /** Resolved seed (the engine draws one when the request gave none). */
  seed: number;
  /** The choice's index: choices of one request share a seed but each draws its own random sequence. */
  choiceIndex: number;
  /** null: no logprobs; n: the number of top alternatives to report. */
  logprobs: number | null;
  /** The worker ends the row by itself after this many tokens or an EOS id, without waiting for a release. */
  maxTokens: number;
  eosIds: readonly number[];
  /** Structured output: the worker masks every token that would break the value, and ends the row when it is complete. */
  constraint: OutputConstraint | null;
  /**
   * tool_choice auto: the row is free until its text ends with `open` (the
   * model opened a call); the rest of that call is then constrained by
   * `body`. Without `parallel` the row ends after that call.
   */
  toolTrigger: ToolTrigger | null;
  /**
   * Tool-call markers of the model's format, for a row that reads tool
   * calls (else empty): where the tokenizer makes one a special token, the
   * row's text keeps it (kept-markers.ts).
   */
  keepMarkers: readonly string[];
}

export interface ToolTrigger {
  open: string;
  body: OutputConstraint;
  parallel: boolean;
  /**
   * The model's thinking tags, when it has them: a marker written inside
   * the thinking block is thought, not a call. `inside`: the prompt
   * already opened the block.
   */
  reasoning: { open: string; close: string; inside: boolean } | null;
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

/** A prompt as the worker encoded it. */
export interface EncodedPrompt {
  ids: Int32Array;
  /** The rendered chat prompt ends inside the model's thinking block (Qwen3, DeepSeek-R1): the output starts as reasoning. */
  opensReasoning: boolean;
}

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
  /** The attention kind and KV hand-over the probe found, in words, for the model-load log line. */
  kvHandling: string;
  /** False when the model takes only one new token after a cached past: prompts are prefilled whole. */
  chunkedPrefill: boolean;
  /** Whether the vocabulary allows constrained decoding (response_format json_object / json_schema). */
  structuredOutput: StructuredOutputSupport;
}

/**
 * The worker's verdict on a row after a token: it goes on, or the worker
 * ended it (EOS, its token budget, or a structured value that this token
 * completed, whose text still belongs to the answer) and has already
 * dropped it.
 */
export const ROW_END = { continues: 0, eos: 1, length: 2, complete: 3 } as const;
export type RowEnd = (typeof ROW_END)[keyof typeof ROW_END];

/** One sampled token per row that produced one this step (prefilling rows may not), in `rowIds` order. */
export interface StepResult {
  type: "stepDone";
  stepId: number;
  rowIds: Int32Array;
  tokens: Int32Array;
  /** Per row: a RowEnd. */
  ends: Uint8Array;
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
  /** The same in steps: divided by the duration of the step the release waited on (worker/release-timer.ts). */
  releaseSteps: Float64Array;
  /** How long this step took, from building its feeds to its last row's text. */
  stepMs: number;
}

/** The typed arrays of a step result, handed over to the receiving thread rather than copied. */
export const stepResultTransfer = (r: StepResult): ArrayBuffer[] =>
  [r.rowIds, r.tokens, r.ends, r.released, r.releaseMs, r.releaseSteps].map((a) => a.buffer as ArrayBuffer);

export type FromWorker =
  | { type: "ready"; info: WorkerModelInfo }
  | { type: "initError"; message: string }
  | { type: "encoded"; requestId: number; ids: Int32Array; opensReasoning: boolean }
  | { type: "encodeError"; requestId: number; error: SerializedError }
  | StepResult
  /** The step failed; the worker dropped every row it held. */
  | { type: "stepError"; stepId: number; message: string };
