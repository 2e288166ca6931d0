/**
 * The scheduler owns the waiting queue and every running row. At each step
 * boundary of a worker it drops rows that ended (finished, cancelled, client
 * gone) from that worker, admits waiting rows up to the batch limit, and
 * sends one step. Nobody else changes this state: the engine only enqueues
 * rows and marks requests ended, then wakes the scheduler.
 */
import { EventEmitter } from "node:events";
import { ApiError } from "../errors.ts";
import type { EngineRequest, EngineRow } from "./engine-request.ts";
import type { AdmitRow, StepResult } from "../worker/messages.ts";
import type { TokenLogprob } from "./types.ts";

/** What the scheduler needs of a worker; the engine passes WorkerHandles, tests pass fakes. */
export interface StepRunner {
  readonly alive: boolean;
  step(admit: AdmitRow[], release: Int32Array): Promise<StepResult>;
}

export interface SchedulerOptions {
  maxBatchSize: number;
  /**
   * KV-cache positions a worker may have promised (prompt + max tokens of
   * every row it holds). Admission waits rather than overcommit; a row that
   * alone exceeds the bound runs only on an otherwise empty worker.
   */
  maxTokensInFlight: number;
}

interface Slot {
  runner: StepRunner;
  rows: EngineRow[];
  /** Rows the worker still holds whose request has ended: released in the next step. */
  ended: EngineRow[];
  running: boolean;
}

export interface SchedulerEvents {
  /** Every row of a request has left its worker (or never reached one). */
  released: [requestId: string];
  idle: [];
  /** A step failed; its rows were failed with a generic 500. */
  stepFailed: [error: Error];
}

export class Scheduler extends EventEmitter<SchedulerEvents> {
  private readonly waiting: EngineRow[] = [];
  private readonly slots: Slot[] = [];

  constructor(private readonly options: SchedulerOptions) {
    super();
  }

  addRunner(runner: StepRunner): void {
    this.slots.push({ runner, rows: [], ended: [], running: false });
    this.wake();
  }

  /** Removes a dead worker; the rows it held are failed by the caller. */
  removeRunner(runner: StepRunner): EngineRow[] {
    const index = this.slots.findIndex((s) => s.runner === runner);
    if (index === -1) return [];
    const [slot] = this.slots.splice(index, 1);
    return [...slot!.rows, ...slot!.ended];
  }

  enqueue(request: EngineRequest): void {
    for (const row of request.rows) this.waiting.push(row);
    this.wake();
  }

  get queuedRows(): number {
    return this.waiting.filter((r) => !r.request.isEnded).length;
  }

  get runningRows(): number {
    return this.slots.reduce((n, s) => n + s.rows.length + s.ended.length, 0);
  }

  /** Starts a step on every idle worker that has work; call after any change. */
  wake(): void {
    this.dropEndedWaiting();
    for (const slot of this.slots) if (!slot.running) void this.runSlot(slot);
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

  private async runSlot(slot: Slot): Promise<void> {
    slot.running = true;
    try {
      while (slot.runner.alive) {
        // Rows whose request ended since the last step leave the batch now.
        for (const row of slot.rows) if (row.request.isEnded || row.state === "done") slot.ended.push(row);
        slot.rows = slot.rows.filter((r) => !slot.ended.includes(r));
        this.dropEndedWaiting();
        const admitted: EngineRow[] = [];
        let reserved = slot.rows.reduce((n, r) => n + tokensNeeded(r), 0);
        while (slot.rows.length + admitted.length < this.options.maxBatchSize && this.waiting.length > 0) {
          const need = tokensNeeded(this.waiting[0]!);
          const empty = slot.rows.length + admitted.length === 0;
          // First come, first served: the head of the queue waits for room rather than being overtaken.
          if (!empty && reserved + need > this.options.maxTokensInFlight) break;
          reserved += need;
          admitted.push(this.waiting.shift()!);
        }
        const released = slot.ended;
        if (admitted.length === 0 && slot.rows.length === 0 && released.length === 0) break;
        slot.ended = [];
        for (const row of admitted) row.state = "running";
        slot.rows = [...slot.rows, ...admitted];
        const result = await slot.runner.step(
          admitted.map(toAdmitRow),
          Int32Array.from(released, (r) => r.rowId),
        );
        for (const row of released) this.releaseIfGone(row.request);
        this.deliver(slot, result);
      }
    } catch (error) {
      // A step that failed leaves the worker's rows in an unknown state: fail them.
      this.emit("stepFailed", error as Error);
      const failure = new ApiError(500, "server_error", "The model worker failed while generating; the request was aborted.");
      for (const row of [...slot.rows, ...slot.ended]) row.request.fail(failure);
      const rows = [...slot.rows, ...slot.ended];
      slot.rows = [];
      slot.ended = [];
      for (const row of rows) this.releaseIfGone(row.request);
    } finally {
      slot.running = false;
    }
    if (this.slots.includes(slot) && slot.runner.alive && (this.waiting.length > 0 || slot.rows.length > 0)) {
      void this.runSlot(slot);
    } else if (this.runningRows === 0 && this.queuedRows === 0) {
      this.emit("idle");
    }
  }

  private deliver(slot: Slot, result: StepResult): void {
    const byId = new Map(slot.rows.map((r) => [r.rowId, r]));
    for (let i = 0; i < result.rowIds.length; i++) {
      const row = byId.get(result.rowIds[i]!);
      if (!row || row.request.isEnded) continue;
      row.request.accept(row, result.tokens[i]!, result.texts[i]!, toTokenLogprob(result.logprobs[i] ?? null));
    }
  }

  /** Emits `released` once no worker holds any row of the request. */
  private releaseIfGone(request: EngineRequest): void {
    const held = (row: EngineRow): boolean =>
      this.waiting.includes(row) || this.slots.some((s) => s.rows.includes(row) || s.ended.includes(row));
    if (!request.rows.some(held)) this.emit("released", request.id);
  }
}

function tokensNeeded(row: EngineRow): number {
  return row.request.promptIds.length + row.choice.maxTokens;
}

function toAdmitRow(row: EngineRow): AdmitRow {
  const { request } = row;
  return {
    rowId: row.rowId,
    promptIds: request.promptIds.slice(),
    sampling: request.sampling,
    seed: request.seed,
    stream: row.choice.index,
    logprobs: request.valid.logprobs,
  };
}

function toTokenLogprob(lp: StepResult["logprobs"][number]): TokenLogprob | null {
  if (!lp) return null;
  const bytes = (s: string): number[] => [...Buffer.from(s, "utf8")];
  return {
    token: lp.tokenText,
    logprob: lp.logprob,
    bytes: bytes(lp.tokenText),
    top_logprobs: lp.top.map((t, i) => ({ token: lp.topTexts[i]!, logprob: t.logprob, bytes: bytes(lp.topTexts[i]!) })),
  };
}
