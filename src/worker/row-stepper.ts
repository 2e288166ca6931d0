/**
 * The rows a worker holds and the step that advances them. Admissions and
 * releases arrive any time and take effect at the next step. One step runs
 * these phases in order:
 *   1. join: rows that finished prefill join the decode batch, and released
 *      rows leave it (one rebuild of the batch cache);
 *   2. decode: one batched run over every decoding row;
 *   3. prefill together: prompts that fit this step's budget from scratch
 *      run as one right-padded batch;
 *   4. prefill in chunks: the rest of the budget goes to longer prompts, so
 *      a long prompt does not stall the rows that are decoding;
 *   5. drop ended rows: EOS or their token budget (worker-row.ts decides).
 * Each row that ran its last prompt token or a decode token samples one
 * token. Logits never leave the worker.
 */
import type { LoadedTokenizer } from "../model/tokenizer.ts";
import { wallClockMs } from "../wall-clock.ts";
import { DecodeBatch, type NewPositionPlacement } from "./decode-batch.ts";
import { keptBytes, SpecialTokenIndex, textsKeeping } from "./kept-markers.ts";
import type { AdmitRow, StepResult } from "./messages.ts";
import type { ModelRunner } from "./model-runner.ts";
import { ReleaseTimer } from "./release-timer.ts";
import { StepOutput } from "./step-output.ts";
import type { StructuredOutput } from "./structured-output.ts";
import { WorkerRow, type TokenTexts } from "./worker-row.ts";

export class RowStepper {
  private readonly rows = new Map<number, WorkerRow>();
  private readonly batch: DecodeBatch | null;
  private readonly releases = new ReleaseTimer();
  private readonly texts: TokenTexts;
  private readonly specialTokens: SpecialTokenIndex;

  constructor(
    private readonly runner: ModelRunner,
    tokenizer: LoadedTokenizer,
    placement: NewPositionPlacement | null,
    private readonly prefillChunk: number,
    private readonly structured: StructuredOutput,
  ) {
    this.batch = placement ? DecodeBatch.for(runner.io, placement) : null;
    const options = { clean_up_tokenization_spaces: false };
    this.texts = {
      decode: (ids) => (ids.length === 0 ? "" : tokenizer.full.decode(ids, { ...options, skip_special_tokens: true })),
      tokenText: (id) => tokenizer.full.decode([id], { ...options, skip_special_tokens: false }),
    };
    this.specialTokens = new SpecialTokenIndex(tokenizer.skippedIds, this.texts.tokenText);
  }

  /** True when a step has something to do or to report. */
  get hasWork(): boolean {
    return this.rows.size > 0 || this.releases.hasPending;
  }

  /**
   * Applies admissions and releases; takes effect at the next step. Unknown
   * ids (already ended here) are ignored. `sentAt` (wallClockMs) is when the
   * engine sent the releases: how long each row took to leave is timed from it.
   */
  apply(admit: AdmitRow[], release: Int32Array, sentAt = Number.NaN): void {
    for (const id of release) if (this.rows.delete(id)) this.releases.released(id, sentAt);
    for (const a of admit) {
      const kept = this.specialTokens.kept(a.keepMarkers);
      this.rows.set(a.rowId, new WorkerRow(a, this.runner.emptyKv(), textsKeeping(this.texts, kept), this.structured.guideFor(a, keptBytes(kept))));
    }
  }

  /** Drops every row (after a failed step or at shutdown); returns their ids. */
  dropAll(): number[] {
    const ids = [...this.rows.keys()];
    this.rows.clear();
    this.batch?.rebuild(() => false, []);
    return ids;
  }

  async step(stepId: number): Promise<StepResult> {
    const started = this.releases.stepStarted();
    const out = new StepOutput(stepId);
    try {
      this.join();
      await this.decode(out);
      const budget = await this.prefillTogether(this.prefillChunk, out);
      await this.prefillInChunks(budget, out);
      this.dropEnded();
      const ended = wallClockMs();
      return out.result(this.releases.take(ended, ended - started), ended - started);
    } finally {
      this.releases.stepEnded();
    }
  }

  /** Phase 1: rows that finished prefill become decoding rows; the batch takes their cache and drops released rows. */
  private join(): void {
    const joining = this.inPhase("joining");
    for (const row of joining) row.phase = "decoding";
    if (!this.batch) return;
    this.batch.rebuild(
      (id) => this.rows.has(id),
      joining.map((r) => ({ rowId: r.rowId, past: r.prefilledIn?.past ?? r.kv.past, sourceRow: r.prefilledIn?.sourceRow ?? 0, length: r.prompt.length })),
    );
    // The batch holds their cache now; drop the prefill copies.
    for (const row of joining) {
      row.kv = this.runner.emptyKv();
      row.prefilledIn = null;
    }
  }

  /** Phase 2: one token for every decoding row, in one batched run (or one run per row when the model cannot batch). */
  private async decode(out: StepOutput): Promise<void> {
    if (!this.batch) {
      for (const row of this.inPhase("decoding")) {
        const run = this.runner.forward(row.kv, [row.lastToken]);
        row.prepare();
        out.add(row.rowId, row.next(await run));
      }
      return;
    }
    if (this.batch.size === 0) return;
    const order = this.batch.rowIds.map((id) => this.rows.get(id) as WorkerRow);
    const run = this.runner.decode(this.batch, order.map((r) => r.lastToken));
    for (const row of order) row.prepare();
    const logits = await run;
    order.forEach((row, i) => out.add(row.rowId, row.next(logits[i])));
  }

  /** Phase 3: prompts that fit the budget from scratch, prefilled together, right-padded. Returns the budget left. */
  private async prefillTogether(budget: number, out: StepOutput): Promise<number> {
    if (!this.batch || !this.runner.io.attentionMask) return budget;
    const together: WorkerRow[] = [];
    let left = budget;
    for (const row of this.inPhase("prefill")) {
      if (row.prefilled > 0 || row.prompt.length > left) continue;
      together.push(row);
      left -= row.prompt.length;
    }
    // One prompt alone gains nothing from the batched path; phase 4 runs it.
    if (together.length < 2) return budget;
    const run = this.runner.prefillBatch(together.map((r) => r.prompt));
    for (const row of together) row.prepare();
    const { logits, past } = await run;
    together.forEach((row, i) => {
      row.prefilled = row.prompt.length;
      row.prefilledIn = { past, sourceRow: i };
      row.phase = "joining";
      out.add(row.rowId, row.next(logits[i]));
    });
    return left;
  }

  /** Phase 4: the rest of the budget, chunk by chunk, to prompts still prefilling, oldest first. */
  private async prefillInChunks(budget: number, out: StepOutput): Promise<void> {
    let left = budget;
    for (const row of this.inPhase("prefill")) {
      if (left <= 0) return;
      const take = Math.min(left, row.prompt.length - row.prefilled);
      const run = this.runner.forward(row.kv, row.prompt.subarray(row.prefilled, row.prefilled + take));
      if (row.prefilled + take === row.prompt.length) row.prepare();
      const logits = await run;
      row.prefilled += take;
      left -= take;
      if (row.prefilled === row.prompt.length) {
        row.phase = "joining";
        out.add(row.rowId, row.next(logits));
      }
    }
  }

  /** Phase 5: rows that reached EOS or their token budget leave now; the engine needs no round trip for them. */
  private dropEnded(): void {
    for (const [id, row] of this.rows) {
      if (!row.ended) continue;
      this.rows.delete(id);
      this.releases.ended(id);
    }
  }

  private inPhase(phase: WorkerRow["phase"]): WorkerRow[] {
    return [...this.rows.values()].filter((r) => r.phase === phase);
  }
}
