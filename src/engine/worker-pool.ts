/**
 * The model worker threads: starts them, replaces one that dies once the
 * engine is serving, and places each request on one worker. Placement is
 * one decision per request, made once, before its prompt is encoded: that
 * worker encodes the prompt and runs every row of the request, so the
 * prompt never moves between workers.
 */
import { EventEmitter } from "node:events";
import { availableParallelism } from "node:os";
import type { Logger } from "pino";
import { unavailable } from "../errors.ts";
import { ModelLoadError } from "../model/model-load-error.ts";
import type { WorkerInit, WorkerModelInfo } from "../worker/messages.ts";
import { WorkerHandle } from "./worker-handle.ts";

export interface WorkerPoolEvents {
  /** A worker loaded its model and proved a forward pass: it may take rows. */
  ready: [worker: WorkerHandle];
  /** A worker died; it is out of the pool. Its rows are lost with it. */
  died: [worker: WorkerHandle, error: Error];
  /** A replacement for a worker that died is starting (never during start-up or shutdown). */
  restarting: [];
}

export interface WorkerPoolOptions {
  init: Omit<WorkerInit, "cores">;
  size: number;
  logger: Logger;
}

export class WorkerPool extends EventEmitter<WorkerPoolEvents> {
  private readonly workers: WorkerHandle[] = [];
  private readonly init: WorkerInit;
  /** Workers are replaced after a crash only once the pool has started. */
  private started = false;
  private closing = false;
  /** Where the search for the least loaded worker starts: equal loads take turns. */
  private turn = 0;

  constructor(private readonly options: WorkerPoolOptions) {
    super();
    this.init = { ...options.init, cores: Math.max(1, Math.floor(availableParallelism() / options.size)) };
  }

  /** Starts every worker; resolves with what the first learned of the model, rejects when it cannot be served. */
  async start(): Promise<WorkerModelInfo> {
    try {
      const infos = await Promise.all(Array.from({ length: this.options.size }, () => this.spawn()));
      this.started = true;
      return infos[0];
    } catch (error) {
      await this.close();
      throw error instanceof ModelLoadError ? error : new Error(`model worker failed to start: ${(error as Error).message}`);
    }
  }

  /** The ready worker with the least load; 503 when none is ready. */
  place(load: (worker: WorkerHandle) => number): WorkerHandle {
    const ready = this.workers.filter((w) => w.alive && w.isReady);
    if (ready.length === 0) throw unavailable("No model worker is ready.", 1);
    return leastLoaded(ready, load, this.turn++);
  }

  get readyCount(): number {
    return this.workers.filter((w) => w.alive && w.isReady).length;
  }

  get size(): number {
    return this.options.size;
  }

  /** For fault-injection tests: kills one worker thread as a crash would. */
  async kill(index: number): Promise<void> {
    await this.workers[index]?.kill();
  }

  async close(): Promise<void> {
    this.closing = true;
    await Promise.all(this.workers.map((w) => w.close()));
  }

  private async spawn(): Promise<WorkerModelInfo> {
    const worker = new WorkerHandle(this.init);
    this.workers.push(worker);
    worker.on("dead", (error) => this.onDead(worker, error));
    const info = await worker.ready;
    this.emit("ready", worker);
    return info;
  }

  private onDead(worker: WorkerHandle, error: Error): void {
    const index = this.workers.indexOf(worker);
    if (index !== -1) this.workers.splice(index, 1);
    this.emit("died", worker, error);
    if (this.closing || !this.started) return;
    this.options.logger.error({ err: error }, "model worker died; starting a replacement");
    this.emit("restarting");
    this.spawn().catch((e: Error) => this.options.logger.error({ err: e }, "replacement worker failed to start"));
  }
}

/**
 * The candidate with the least load. The search starts at `turn` (modulo
 * the count), so that equally loaded workers take turns instead of the
 * first one taking every request that arrives while all are idle.
 */
export function leastLoaded<T>(candidates: readonly T[], load: (candidate: T) => number, turn: number): T {
  const start = turn % candidates.length;
  let best = candidates[start];
  for (let k = 1; k < candidates.length; k++) {
    const candidate = candidates[(start + k) % candidates.length];
    if (load(candidate) < load(best)) best = candidate;
  }
  return best;
}
