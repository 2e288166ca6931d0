/**
 * The scheduler owns every worker's queue and the rows each worker holds.
 * Workers step on their own, back to back, as long as they hold rows (the
 * CPU/GPU never waits for this thread between steps); the scheduler sends
 * them admissions and releases, which a worker applies at its next step
 * boundary, and receives each step's tokens. Nobody else changes this
 * state: the engine only places requests, ends them, and wakes it.
 *
 * A request waits in the queue of the worker it was placed on (the one that
 * encodes its prompt), in arrival order; its rows become admissible once the
 * prompt is encoded. A row occupies its worker (batch slot and KV budget)
 * from admission until the worker reports it released: after its last token
 * by itself (EOS or its token budget), or after a release message (stop
 * string, cancel, client gone), which it applies at its next step boundary.
 */
import { EventEmitter } from "node:events";
import { workerFailed } from "../errors.ts";
import type { AdmitRow, RowEnd, StepResult } from "../worker/messages.ts";
import type { EngineRequest, EngineRow } from "./engine-request.ts";

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
  /** Rows placed on this worker and not yet admitted, oldest first. */
  waiting: EngineRow[];
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
  /** The request's first row was sent to a batch; `request.scheduledAtMs` is set. Once per request. */
  scheduled: [request: EngineRequest];
  /** The request's first token arrived; `request.firstTokenAtMs` is set. Once per request. */
  firstToken: [request: EngineRequest];
  /**
   * One step's tokens that reached an unfinished choice (`accepted`: what
   * usage counts), and for each of them that was not its choice's first,
   * the time since that choice's previous token. `gapsMs` is a view of a
   * buffer the scheduler reuses: read it during the event only.
   */
  tokens: [accepted: number, gapsMs: Float64Array];
}

/** What a worker's removal leaves behind. */
export interface RemovedRunner {
  /** Rows the worker held: their KV is gone with it. */
  held: EngineRow[];
  /** Encoded requests that were waiting for it and never started: they can run elsewhere. */
  waiting: EngineRequest[];
}

export class Scheduler extends EventEmitter<SchedulerEvents> {
  private readonly slots = new Map<StepRunner, Slot>();
  /** Per-step token gaps, reused so that timing tokens allocates nothing per token. */
  private gapsMs = new Float64Array(64);

  constructor(private readonly options: SchedulerOptions) {
    super();
  }

  addRunner(runner: StepRunner): void {
    const slot: Slot = {
      runner,
      waiting: [],
      rows: new Set(),
      releasing: new Set(),
      onResult: (result) => this.onResult(slot, result),
      onFailed: (error) => this.onFailed(slot, error),
    };
    runner.steps.on("result", slot.onResult);
    runner.steps.on("failed", slot.onFailed);
    this.slots.set(runner, slot);
  }

  /** Removes a dead worker. The caller fails the rows it held and may place its waiting requests elsewhere. */
  removeRunner(runner: StepRunner): RemovedRunner {
    const slot = this.slots.get(runner);
    if (!slot) return { held: [], waiting: [] };
    this.slots.delete(runner);
    runner.steps.off("result", slot.onResult);
    runner.steps.off("failed", slot.onFailed);
    const held = [...slot.rows];
    const waiting = [...new Set(slot.waiting.map((row) => row.request))].filter((r) => !r.isEnded && r.promptIds !== null);
    queueMicrotask(() => {
      for (const row of [...held, ...slot.waiting]) this.releaseIfGone(row.request);
      this.emitIdleIfIdle();
    });
    return { held, waiting };
  }

  /** Rows a worker holds or has waiting: what placement balances. */
  load(runner: StepRunner): number {
    const slot = this.slots.get(runner);
    return slot ? slot.rows.size + slot.waiting.length : Number.POSITIVE_INFINITY;
  }

  /** Queues a request's rows on the worker it was placed on; they are admitted once its prompt is encoded. */
  enqueue(request: EngineRequest, runner: StepRunner): void {
    const slot = this.slots.get(runner);
    if (!slot) throw new Error("enqueue on a worker the scheduler does not know");
    for (const row of request.rows) slot.waiting.push(row);
    this.wake();
  }

  get queuedRows(): number {
    let n = 0;
    for (const slot of this.slots.values()) for (const row of slot.waiting) if (!row.request.isEnded) n++;
    return n;
  }

  get runningRows(): number {
    let n = 0;
    for (const slot of this.slots.values()) n += slot.rows.size;
    return n;
  }

  /** KV positions the rows on the workers hold: prompt plus tokens generated so far, per row. */
  get kvTokensInUse(): number {
    let n = 0;
    for (const slot of this.slots.values()) for (const row of slot.rows) n += row.request.promptLength + row.choice.generated;
    return n;
  }

  /** KV positions promised to the rows on the workers (prompt plus max tokens each): what admission counts. */
  get kvTokensReserved(): number {
    let n = 0;
    for (const slot of this.slots.values()) for (const row of slot.rows) n += tokensNeeded(row.request);
    return n;
  }

  /** Sends releases for rows that ended and admissions where there is room; call after any change. */
  wake(): void {
    for (const slot of this.slots.values()) {
      this.dropEndedWaiting(slot);
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
      this.markScheduled(admit);
    }
    this.emitIdleIfIdle();
  }

  private markScheduled(admitted: EngineRow[]): void {
    if (admitted.length === 0) return;
    const now = performance.now();
    for (const { request } of admitted) {
      if (!Number.isNaN(request.scheduledAtMs)) continue;
      request.scheduledAtMs = now;
      this.emit("scheduled", request);
    }
  }

  private admissions(slot: Slot): EngineRow[] {
    const admitted: EngineRow[] = [];
    let reserved = 0;
    for (const row of slot.rows) reserved += tokensNeeded(row.request);
    while (slot.rows.size + admitted.length < this.options.maxBatchSize && slot.waiting.length > 0) {
      const head = slot.waiting[0].request;
      // First come, first served: the head of the queue waits (for its prompt, or for room) rather than being overtaken.
      if (head.promptIds === null) break;
      const empty = slot.rows.size + admitted.length === 0;
      if (!empty && reserved + tokensNeeded(head) > this.options.maxTokensInFlight) break;
      reserved += tokensNeeded(head);
      admitted.push(slot.waiting.shift() as EngineRow);
    }
    return admitted;
  }

  private onResult(slot: Slot, result: StepResult): void {
    const byId = new Map<number, EngineRow>();
    for (const row of slot.rows) byId.set(row.rowId, row);
    if (this.gapsMs.length < result.rowIds.length) this.gapsMs = new Float64Array(result.rowIds.length * 2);
    const now = performance.now();
    let accepted = 0;
    let gaps = 0;
    for (let i = 0; i < result.rowIds.length; i++) {
      const row = byId.get(result.rowIds[i]);
      if (!row) continue;
      // A token for a choice that already ended (a stop string, a cancel) is dropped by accept: not timed either.
      if (!row.request.isEnded && !row.choice.finished) {
        accepted++;
        if (Number.isNaN(row.lastTokenAtMs)) this.markFirstToken(row.request, now);
        else this.gapsMs[gaps++] = now - row.lastTokenAtMs;
        row.lastTokenAtMs = now;
      }
      row.request.accept(row, result.texts[i], result.logprobs[i] ?? null, result.ends[i] as RowEnd);
    }
    this.emit("step", result.stepMs, result.rowIds.length);
    if (accepted > 0) this.emit("tokens", accepted, this.gapsMs.subarray(0, gaps));
    for (let i = 0; i < result.released.length; i++) {
      const row = byId.get(result.released[i]);
      if (!row) continue;
      slot.rows.delete(row);
      slot.releasing.delete(row);
      const ms = result.releaseMs[i];
      if (!Number.isNaN(ms)) this.emit("rowLeft", ms, result.releaseSteps[i]);
      this.releaseIfGone(row.request);
    }
    this.wake();
  }

  private markFirstToken(request: EngineRequest, now: number): void {
    if (!Number.isNaN(request.firstTokenAtMs)) return;
    request.firstTokenAtMs = now;
    this.emit("firstToken", request);
  }

  private onFailed(slot: Slot, error: Error): void {
    this.emit("stepFailed", error);
    const rows = [...slot.rows];
    slot.rows.clear();
    slot.releasing.clear();
    for (const row of rows) row.request.fail(workerFailed("step"));
    for (const row of rows) this.releaseIfGone(row.request);
    this.wake();
  }

  private dropEndedWaiting(slot: Slot): void {
    for (let i = slot.waiting.length - 1; i >= 0; i--) {
      const row = slot.waiting[i];
      if (!row.request.isEnded) continue;
      slot.waiting.splice(i, 1);
      this.releaseIfGone(row.request);
    }
  }

  private emitIdleIfIdle(): void {
    if (this.runningRows === 0 && [...this.slots.values()].every((s) => s.waiting.length === 0)) this.emit("idle");
  }

  /** Emits `released` once no worker holds any row of the request and none waits. */
  private releaseIfGone(request: EngineRequest): void {
    const held = (row: EngineRow): boolean => [...this.slots.values()].some((s) => s.rows.has(row) || s.waiting.includes(row));
    if (!request.rows.some(held)) this.emit("released", request.id);
  }

  /** Each row gets its own copy of the prompt: the message transfers it, and the request keeps its ids. */
  private toAdmitRow(row: EngineRow): AdmitRow {
    const { request } = row;
    return {
      rowId: row.rowId,
      promptIds: (request.promptIds as Int32Array).slice(),
      sampling: request.valid.sampling,
      seed: request.seed,
      choiceIndex: row.choice.index,
      logprobs: request.valid.logprobs,
      maxTokens: request.maxTokens,
      eosIds: this.options.eosIds,
      constraint: request.decoding.constraint,
      toolTrigger: request.toolTrigger,
      keepMarkers: request.keepMarkers,
    };
  }
}

function tokensNeeded(request: EngineRequest): number {
  return request.promptLength + request.maxTokens;
}
