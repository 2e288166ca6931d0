/**
 * The scheduler owns the waiting queue and decides which worker runs which
 * row. Workers step on their own, back to back, as long as they hold rows
 * (the GPU/CPU never waits for this thread between steps); the scheduler
 * sends them admissions and releases, which a worker applies at its next
 * step boundary, and receives each step's tokens. Nobody else changes this
 * state: the engine only enqueues rows and ends requests, then wakes it.
 *
 * A row occupies its worker (batch slot and KV budget) from admission until
 * the worker reports it released: after its last token by itself (EOS or
 * max tokens), or after a release message (stop string, cancel, client
 * gone), which it applies at its next step boundary.
 */
import { EventEmitter } from "node:events";
import { ApiError } from "../errors.ts";
import type { EngineRequest, EngineRow } from "./engine-request.ts";
import type { AdmitRow, StepResult } from "../worker/messages.ts";

export interface StepRunnerEvents {
  /** One step's tokens, and the rows the worker no longer holds. */
  result: [StepResult];
  /** A step failed: the worker dropped every row it held. */
  failed: [Error];
}

/** What the scheduler needs of a worker; the engine passes WorkerHandles, tests pass fakes. */
export interface StepRunner {
  readonly alive: boolean;
  /** Admissions and releases, applied by the worker at its next step boundary. */
  send(admit: AdmitRow[], release: Int32Array): void;
  readonly steps: EventEmitter<StepRunnerEvents>;
}

export interface SchedulerOptions {
  maxBatchSize: number;
  /**
   * KV-cache positions a worker may have promised (prompt + max tokens of
   * every row it holds). Admission waits rather than overcommit; a row that
   * alone exceeds the bound runs only on an otherwise empty worker.
   */
  maxTokensInFlight: number;
  /** EOS ids, sent with each row so a worker ends it without a round trip. */
  eosIds: readonly number[];
}

interface Slot {
  runner: StepRunner;
  /** Rows the worker holds (admitted, not yet reported released). */
  rows: Set<EngineRow>;
  /** Rows whose release was sent and not yet confirmed. */
  releasing: Set<EngineRow>;
  onResult: (result: StepResult) => void;
  onFailed: (error: Error) => void;
}

export interface SchedulerEvents {
  /** Every row of a request has left its worker (or never reached one). */
  released: [requestId: string];
  idle: [];
  /** A step failed; its rows were failed with a generic 500. */
  stepFailed: [error: Error];
  /** A worker finished a step over `rows` rows. */
  step: [ms: number, rows: number];
  /**
   * A row whose release was sent (cancel, disconnect, stop string) left its
   * worker's batch: time from sending the release, and that time in steps
   * of the step the release waited on.
   */
  rowLeft: [ms: number, steps: number];
}

export class Scheduler extends EventEmitter<SchedulerEvents> {
  private readonly waiting: EngineRow[] = [];
  private readonly slots: Slot[] = [];

  constructor(private readonly options: SchedulerOptions) {
    super();
  }

  addRunner(runner: StepRunner): void {
    const slot: Slot = {
      runner,
      rows: new Set(),
      releasing: new Set(),
      onResult: (result) => this.onResult(slot, result),
      onFailed: (error) => this.onFailed(slot, error),
    };
    runner.steps.on("result", slot.onResult);
    runner.steps.on("failed", slot.onFailed);
    this.slots.push(slot);
    this.wake();
  }

  /** Removes a dead worker; returns the rows it held, which the caller fails. */
  removeRunner(runner: StepRunner): EngineRow[] {
    const index = this.slots.findIndex((s) => s.runner === runner);
    if (index === -1) return [];
    const [slot] = this.slots.splice(index, 1);
    runner.steps.off("result", slot!.onResult);
    runner.steps.off("failed", slot!.onFailed);
    const rows = [...slot!.rows];
    slot!.rows.clear();
    queueMicrotask(() => {
      for (const row of rows) this.releaseIfGone(row.request);
      this.emitIdleIfIdle();
    });
    return rows;
  }

  enqueue(request: EngineRequest): void {
    for (const row of request.rows) this.waiting.push(row);
    this.wake();
  }

  get queuedRows(): number {
    return this.waiting.filter((r) => !r.request.isEnded).length;
  }

  get runningRows(): number {
    return this.slots.reduce((n, s) => n + s.rows.size, 0);
  }

  /** Sends releases for rows that ended and admissions where there is room; call after any change. */
  wake(): void {
    this.dropEndedWaiting();
    for (const slot of this.slots) {
      if (!slot.runner.alive) continue;
      const release: EngineRow[] = [];
      for (const row of slot.rows) {
        if ((row.request.isEnded || row.choice.finished) && !slot.releasing.has(row)) release.push(row);
      }
      const admit = this.admissions(slot);
      if (admit.length === 0 && release.length === 0) continue;
      for (const row of release) slot.releasing.add(row);
      for (const row of admit) slot.rows.add(row);
      slot.runner.send(admit.map((r) => this.toAdmitRow(r)), Int32Array.from(release, (r) => r.rowId));
    }
    this.emitIdleIfIdle();
  }

  private admissions(slot: Slot): EngineRow[] {
    const admitted: EngineRow[] = [];
    let reserved = 0;
    for (const row of slot.rows) reserved += tokensNeeded(row);
    while (slot.rows.size + admitted.length < this.options.maxBatchSize && this.waiting.length > 0) {
      const need = tokensNeeded(this.waiting[0]!);
      const empty = slot.rows.size + admitted.length === 0;
      // First come, first served: the head of the queue waits for room rather than being overtaken.
      if (!empty && reserved + need > this.options.maxTokensInFlight) break;
      reserved += need;
      admitted.push(this.waiting.shift()!);
    }
    return admitted;
  }

  private onResult(slot: Slot, result: StepResult): void {
    const byId = new Map<number, EngineRow>();
    for (const row of slot.rows) byId.set(row.rowId, row);
    for (let i = 0; i < result.rowIds.length; i++) {
      const row = byId.get(result.rowIds[i]!);
      if (!row || row.request.isEnded) continue;
      row.request.accept(row, result.tokens[i]!, result.texts[i]!, result.logprobs[i] ?? null);
    }
    this.emit("step", result.stepMs, result.rowIds.length);
    for (let i = 0; i < result.released.length; i++) {
      const row = byId.get(result.released[i]!);
      if (!row) continue;
      slot.rows.delete(row);
      slot.releasing.delete(row);
      const ms = result.releaseMs[i]!;
      if (!Number.isNaN(ms)) this.emit("rowLeft", ms, result.releaseSteps[i]!);
      // Ended by the worker (EOS, max tokens) before this thread saw why: cannot happen when
      // both apply the same rules, but a row must never be left without an end.
      if (!row.choice.finished && !row.request.isEnded) row.request.fail(new ApiError(500, "server_error", "The model worker dropped the row."));
      this.releaseIfGone(row.request);
    }
    this.wake();
  }

  private onFailed(slot: Slot, error: Error): void {
    this.emit("stepFailed", error);
    // The message is generic on purpose: the cause is logged, never sent to clients.
    const failure = new ApiError(500, "server_error", "The model worker failed while generating; the request was aborted.");
    const rows = [...slot.rows];
    slot.rows.clear();
    slot.releasing.clear();
    for (const row of rows) row.request.fail(failure);
    for (const row of rows) this.releaseIfGone(row.request);
    this.wake();
  }

  private dropEndedWaiting(): void {
    for (let i = this.waiting.length - 1; i >= 0; i--) {
      const row = this.waiting[i]!;
      if (row.request.isEnded) {
        this.waiting.splice(i, 1);
        this.releaseIfGone(row.request);
      }
    }
  }

  private emitIdleIfIdle(): void {
    if (this.runningRows === 0 && this.waiting.length === 0) this.emit("idle");
  }

  /** Emits `released` once no worker holds any row of the request and none waits. */
  private releaseIfGone(request: EngineRequest): void {
    const held = (row: EngineRow): boolean => this.waiting.includes(row) || this.slots.some((s) => s.rows.has(row));
    if (!request.rows.some(held)) this.emit("released", request.id);
  }

  private toAdmitRow(row: EngineRow): AdmitRow {
    const { request } = row;
    return {
      rowId: row.rowId,
      promptIds: request.promptIds.slice(),
      sampling: request.sampling,
      seed: request.seed,
      stream: row.choice.index,
      logprobs: request.valid.logprobs,
      maxTokens: row.choice.maxTokens,
      eosIds: this.options.eosIds,
    };
  }
}

function tokensNeeded(row: EngineRow): number {
  return row.request.promptIds.length + row.choice.maxTokens;
}
