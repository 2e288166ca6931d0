/**
 * The rows a worker holds and the step that advances them. Admissions and
 * releases arrive any time and take effect at the next step. One step:
 *   1. drop released rows and let rows that finished prefill join the batch
 *      (one rebuild of the batch cache);
 *   2. one batched decode run over every decoding row;
 *   3. prefill of admitted rows, at most `prefillChunk` prompt tokens per
 *      step, so a long prompt does not stall the rows that are decoding.
 * Then per row: sampling, logprobs, incremental detokenization. Logits never
 * leave the worker.
 */
import { IncrementalDetokenizer } from "../generation/detokenizer.ts";
import { tokenLogprobs } from "../generation/logprobs.ts";
import { RowSampler } from "../generation/sampler.ts";
import { wallClockMs } from "../wall-clock.ts";
import type { LoadedTokenizer } from "../model/tokenizer.ts";
import { DecodeBatch, type NewPositionPlacement } from "./decode-batch.ts";
import { kvGeometry } from "./kv-geometry.ts";
import type { AdmitRow, StepResult } from "./messages.ts";
import type { ModelRunner, RowKv } from "./model-runner.ts";
import type * as ort from "onnxruntime-node";
import type { TokenLogprob } from "../domain.ts";

/** A row that left; times in wallClockMs. */
interface DroppedRow {
  id: number;
  /** When its release was sent; NaN when it ended by itself (EOS, max tokens). */
  sentAt: number;
  /** NaN: it is in the running step and leaves when that step ends. */
  leftAt: number;
  /**
   * The step it waited on: the running one (NaN, known at its end), or, for a
   * release between steps, the last step's cycle: from its start to now, so
   * the work between two runs (sampling, posting, messages) counts as part
   * of the step rather than as a second one.
   */
  waitedStepMs: number;
}

interface WorkerRow {
  rowId: number;
  /** Own cache while prefilling (and always, when the model cannot batch). */
  kv: RowKv;
  /** After a batched prefill: the row's cache is row `sourceRow` of these tensors until it joins. */
  prefilledIn: { past: Record<string, ort.Tensor>; sourceRow: number } | null;
  prompt: Int32Array;
  /** Prompt tokens already run. */
  prefilled: number;
  phase: "prefill" | "joining" | "decoding";
  sampler: RowSampler;
  detokenizer: IncrementalDetokenizer;
  lastToken: number;
  logprobs: number | null;
  generated: number;
  maxTokens: number;
  eosIds: readonly number[];
}

export class RowStepper {
  private readonly rows = new Map<number, WorkerRow>();
  private readonly batch: DecodeBatch | null;
  /** Rows dropped since the last step result, reported with the next one. */
  private dropped: DroppedRow[] = [];
  /** True while a step runs: a row released now is in this step's runs and leaves at its end. */
  private inStep = false;
  /** wallClockMs of the last step's start; NaN before the first. */
  private lastStepStarted = Number.NaN;

  constructor(
    private readonly runner: ModelRunner,
    private readonly tokenizer: LoadedTokenizer,
    placement: NewPositionPlacement | null,
    private readonly prefillChunk: number,
  ) {
    this.batch = placement ? new DecodeBatch(kvGeometry(runner.io), runner.io.kv.layers, placement) : null;
  }

  /** True when a step has something to do or to report. */
  get hasWork(): boolean {
    return this.rows.size > 0 || this.dropped.length > 0;
  }

  /**
   * Applies admissions and releases; takes effect at the next step. Unknown
   * ids (already ended here) are ignored. `sentAt` (wallClockMs) is when the
   * engine sent the releases: how long each row took to leave is timed from it.
   */
  apply(admit: AdmitRow[], release: Int32Array, sentAt = Number.NaN): void {
    for (const id of release) {
      if (!this.rows.delete(id)) continue;
      // During a step the row is in its runs: it leaves at the step's end, and that step is
      // the one it waited on. Between steps it leaves now, after waiting on the last step.
      const now = wallClockMs();
      this.dropped.push(
        this.inStep
          ? { id, sentAt, leftAt: Number.NaN, waitedStepMs: Number.NaN }
          : { id, sentAt, leftAt: now, waitedStepMs: Number.isNaN(this.lastStepStarted) ? 0 : now - this.lastStepStarted },
      );
    }
    for (const a of admit) this.rows.set(a.rowId, this.newRow(a));
  }

  /** Drops every row (after a failed step); returns their ids. */
  dropAll(): number[] {
    const ids = [...this.rows.keys()];
    this.rows.clear();
    this.batch?.rebuild(() => false, []);
    return ids;
  }

  async step(stepId: number): Promise<StepResult> {
    const started = wallClockMs();
    this.lastStepStarted = started;
    this.inStep = true;
    try {
      return await this.runStep(new StepOutput(stepId), started);
    } finally {
      this.inStep = false;
    }
  }

  private async runStep(out: StepOutput, started: number): Promise<StepResult> {
    const joining = [...this.rows.values()].filter((r) => r.phase === "joining");
    for (const row of joining) row.phase = "decoding";
    const decoding = [...this.rows.values()].filter((r) => r.phase === "decoding");
    if (this.batch) {
      this.batch.rebuild(
        (id) => this.rows.has(id),
        joining.map((r) => ({
          rowId: r.rowId,
          past: r.prefilledIn?.past ?? r.kv.past,
          sourceRow: r.prefilledIn?.sourceRow ?? 0,
          length: r.prompt.length,
        })),
      );
      // The batch holds their cache now; drop the prefill copies.
      for (const row of joining) {
        row.kv = this.runner.emptyKv();
        row.prefilledIn = null;
      }
      if (this.batch.size > 0) {
        const order = this.batch.rowIds.map((id) => this.rows.get(id)!);
        const logits = await this.runner.decode(this.batch, order.map((r) => r.lastToken));
        order.forEach((row, i) => this.sample(row, logits[i]!, out));
      }
    } else {
      for (const row of decoding) this.sample(row, await this.runner.forward(row.kv, [row.lastToken]), out);
    }

    let budget = this.prefillChunk;
    // Prompts that fit in this step's budget from scratch are prefilled together, right-padded.
    const together: WorkerRow[] = [];
    if (this.batch && this.runner.io.attentionMask) {
      for (const row of this.rows.values()) {
        if (row.phase !== "prefill" || row.prefilled > 0 || row.prompt.length > budget) continue;
        together.push(row);
        budget -= row.prompt.length;
      }
    }
    if (together.length > 1) {
      const { logits, past } = await this.runner.prefillBatch(together.map((r) => r.prompt));
      together.forEach((row, i) => {
        row.prefilled = row.prompt.length;
        row.prefilledIn = { past, sourceRow: i };
        row.phase = "joining";
        this.sample(row, logits[i]!, out);
      });
    } else if (together.length === 1) {
      budget += together[0]!.prompt.length;
    }
    for (const row of this.rows.values()) {
      if (row.phase !== "prefill" || budget <= 0) continue;
      const take = Math.min(budget, row.prompt.length - row.prefilled);
      const logits = await this.runner.forward(row.kv, row.prompt.subarray(row.prefilled, row.prefilled + take));
      row.prefilled += take;
      budget -= take;
      if (row.prefilled === row.prompt.length) {
        row.phase = "joining";
        this.sample(row, logits, out);
      }
    }
    // Rows that reached EOS or their token limit leave now; the engine needs no round trip for them.
    for (const [id, row] of this.rows) {
      if (row.generated >= row.maxTokens || row.eosIds.includes(row.lastToken)) {
        this.rows.delete(id);
        this.dropped.push({ id, sentAt: Number.NaN, leftAt: Number.NaN, waitedStepMs: Number.NaN });
      }
    }
    const ended = wallClockMs();
    const stepMs = ended - started;
    const dropped = this.dropped;
    this.dropped = [];
    const releaseMs = Float64Array.from(dropped, (d) => (Number.isNaN(d.leftAt) ? ended : d.leftAt) - d.sentAt);
    const releaseSteps = Float64Array.from(dropped, (d, i) => {
      const waited = Number.isNaN(d.waitedStepMs) ? stepMs : d.waitedStepMs;
      return waited > 0 ? releaseMs[i]! / waited : 0;
    });
    return out.result(Int32Array.from(dropped, (d) => d.id), releaseMs, releaseSteps, stepMs);
  }

  private newRow(a: AdmitRow): WorkerRow {
    return {
      rowId: a.rowId,
      kv: this.runner.emptyKv(),
      prefilledIn: null,
      prompt: a.promptIds,
      prefilled: 0,
      phase: "prefill",
      sampler: new RowSampler(a.sampling, a.seed, a.stream, a.promptIds),
      detokenizer: new IncrementalDetokenizer({ decode: (ids) => this.decode(ids) }, a.promptIds),
      lastToken: -1,
      logprobs: a.logprobs,
      generated: 0,
      maxTokens: a.maxTokens,
      eosIds: a.eosIds,
    };
  }

  private sample(row: WorkerRow, logits: Float32Array, out: StepOutput): void {
    const raw = row.logprobs !== null ? logits.slice() : null;
    const token = row.sampler.sample(logits);
    row.lastToken = token;
    row.generated++;
    const lp = raw && row.logprobs !== null ? this.describeLogprobs(raw, token, row.logprobs) : null;
    out.add(row.rowId, token, row.detokenizer.push(token), lp);
  }

  private decode(ids: number[]): string {
    return ids.length === 0 ? "" : this.tokenizer.full.decode(ids, { skip_special_tokens: true, clean_up_tokenization_spaces: false });
  }

  private describeLogprobs(raw: Float32Array, token: number, top: number): TokenLogprob {
    const lp = tokenLogprobs(raw, token, top);
    const text = (id: number): string => this.tokenizer.full.decode([id], { skip_special_tokens: false, clean_up_tokenization_spaces: false });
    return { token: text(token), logprob: lp.logprob, top: lp.top.map((t) => ({ token: text(t.id), logprob: t.logprob })) };
  }
}

/** Accumulates one step's per-row results into the typed-array message. */
class StepOutput {
  private readonly rowIds: number[] = [];
  private readonly tokens: number[] = [];
  private readonly texts: string[] = [];
  private readonly logprobs: StepResult["logprobs"] = [];

  constructor(private readonly stepId: number) {}

  add(rowId: number, token: number, text: string, logprobs: StepResult["logprobs"][number]): void {
    this.rowIds.push(rowId);
    this.tokens.push(token);
    this.texts.push(text);
    this.logprobs.push(logprobs);
  }

  result(released: Int32Array, releaseMs: Float64Array, releaseSteps: Float64Array, stepMs: number): StepResult {
    return {
      type: "stepDone",
      released,
      releaseMs,
      releaseSteps,
      stepMs,
      stepId: this.stepId,
      rowIds: Int32Array.from(this.rowIds),
      tokens: Int32Array.from(this.tokens),
      texts: this.texts,
      logprobs: this.logprobs,
    };
  }
}
