/**
 * One row as its worker holds it: its cache and phase, and the per-row
 * policies that turn its logits into the next token (sampler, incremental
 * detokenizer, logprobs). It is also the owner of two finish rules: EOS and
 * the token budget are decided here, right after the token is drawn, so the
 * worker drops the row without waiting for the engine.
 */
import type * as ort from "onnxruntime-node";
import type { TokenLogprob } from "../domain.ts";
import { IncrementalDetokenizer } from "../generation/detokenizer.ts";
import { applyMask } from "../generation/constraint/token-mask.ts";
import { sanitize } from "../generation/logits-processors.ts";
import { tokenLogprobs } from "../generation/logprobs.ts";
import { RowSampler } from "../generation/sampler.ts";
import { ROW_END, type AdmitRow, type RowEnd } from "./messages.ts";
import type { RowGuide } from "./row-guide.ts";
import type { RowKv } from "./model-runner.ts";

/** How the worker's tokenizer spells ids. */
export interface TokenTexts {
  /** Text of a sequence as a client reads it (special tokens skipped). */
  decode(ids: number[]): string;
  /** One token's own text, special or not (for logprobs). */
  tokenText(id: number): string;
}

export interface SampledToken {
  token: number;
  /** Newly stable text (UTF-8-safe; may be empty). */
  text: string;
  logprob: TokenLogprob | null;
  end: RowEnd;
}

export type RowPhase = "prefill" | "joining" | "decoding";

export class WorkerRow {
  readonly rowId: number;
  readonly prompt: Int32Array;
  /** Own cache while prefilling (and always, when the model cannot batch). */
  kv: RowKv;
  /** After a batched prefill: the row's cache is row `sourceRow` of these tensors until it joins the decode batch. */
  prefilledIn: { past: Record<string, ort.Tensor>; sourceRow: number } | null = null;
  /** Prompt tokens already run. */
  prefilled = 0;
  phase: RowPhase = "prefill";
  lastToken = -1;
  generated = 0;
  end: RowEnd = ROW_END.continues;
  private readonly sampler: RowSampler;
  private readonly detokenizer: IncrementalDetokenizer;
  private readonly logprobs: number | null;
  private readonly maxTokens: number;
  private readonly eosIds: readonly number[];

  constructor(
    admit: AdmitRow,
    kv: RowKv,
    private readonly texts: TokenTexts,
    /** Structured output and tool calls: only tokens that keep the value valid may be drawn. */
    private readonly guide: RowGuide | null = null,
  ) {
    this.rowId = admit.rowId;
    this.prompt = admit.promptIds;
    this.kv = kv;
    this.sampler = new RowSampler(admit.sampling, admit.seed, admit.choiceIndex, admit.promptIds);
    this.detokenizer = new IncrementalDetokenizer(texts, admit.promptIds);
    this.logprobs = admit.logprobs;
    this.maxTokens = admit.maxTokens;
    this.eosIds = admit.eosIds;
  }

  get ended(): boolean {
    return this.end !== ROW_END.continues;
  }

  /**
   * Computes the next token's mask ahead of time. Called while the model
   * runs the step (off this thread), so the mask is ready, cached, when the
   * logits arrive, and unconstrained rows of the batch do not wait on it.
   */
  prepare(): void {
    this.guide?.mask();
  }

  /** Draws the next token from the row's logits (which the processors modify in place). */
  next(logits: Float32Array): SampledToken {
    // Logprobs describe the model's own distribution, before penalties and temperature
    // (sanitized first, so a model's NaN is a masked token there too, not a NaN logprob);
    // for a constrained row, the model's distribution over the tokens the constraint allows.
    if (this.logprobs !== null) sanitize(logits);
    const mask = this.guide?.mask() ?? null;
    if (mask) applyMask(logits, mask);
    const raw = this.logprobs !== null ? logits.slice() : null;
    const token = this.sampler.sample(logits);
    this.lastToken = token;
    this.generated++;
    const complete = this.guide?.advance(token) ?? false;
    if (this.eosIds.includes(token)) this.end = ROW_END.eos;
    // A complete value that nothing may follow ends the row as EOS would, but with this token's text.
    else if (complete) this.end = ROW_END.complete;
    else if (this.generated >= this.maxTokens) this.end = ROW_END.length;
    const logprob = raw && this.logprobs !== null ? this.describe(raw, token, this.logprobs) : null;
    return { token, text: this.detokenizer.push(token), logprob, end: this.end };
  }

  private describe(raw: Float32Array, token: number, top: number): TokenLogprob {
    const lp = tokenLogprobs(raw, token, top);
    return {
      token: this.texts.tokenText(token),
      logprob: lp.logprob,
      top: lp.top.map((t) => ({ token: this.texts.tokenText(t.id), logprob: t.logprob })),
    };
  }
}
