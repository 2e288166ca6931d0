/**
 * The main thread's side of one model worker: spawns the thread, turns its
 * messages into promises, and reports its death so the engine can fail the
 * rows it held and replace it.
 */
import { EventEmitter } from "node:events";
import { Worker } from "node:worker_threads";
import { deserializeError } from "../errors.ts";
import { wallClockMs } from "../wall-clock.ts";
import type { PromptInput } from "../domain.ts";
import type { AdmitRow, EncodedPrompt, FromWorker, ToWorker, WorkerInit, WorkerModelInfo } from "../worker/messages.ts";
import type { StepRunner, StepRunnerEvents } from "./scheduler.ts";

// Under tsx/vitest the sources are .ts; in dist they are .js.
const ext = import.meta.url.endsWith(".ts") ? ".ts" : ".js";
const workerUrl = new URL(`../worker/worker-main${ext}`, import.meta.url);

interface Pending<T> {
  resolve: (value: T) => void;
  reject: (error: Error) => void;
}

export class WorkerDiedError extends Error {
  constructor(reason: string) {
    super(`model worker died: ${reason}`);
    this.name = "WorkerDiedError";
  }
}

export class WorkerHandle extends EventEmitter<{ dead: [Error] }> implements StepRunner {
  /** Each step's tokens as the worker posts them, and step failures. */
  readonly steps = new EventEmitter<StepRunnerEvents>();
  readonly ready: Promise<WorkerModelInfo>;
  private readonly worker: Worker;
  private readonly encodes = new Map<number, Pending<EncodedPrompt>>();
  private nextId = 1;
  private deadError: Error | null = null;
  private readyReached = false;

  constructor(init: WorkerInit) {
    super();
    this.worker =
      ext === ".ts"
        ? // Running from sources (tsx, vitest): loader flags do not reach worker
          // threads in time, so the thread registers tsx itself before importing.
          new Worker(`import { register } from "tsx/esm/api"; register(); await import(${JSON.stringify(workerUrl.href)});`, {
            eval: true,
            workerData: init,
          })
        : new Worker(workerUrl, { workerData: init });
    this.ready = new Promise((resolve, reject) => {
      const onMessage = (message: FromWorker): void => {
        if (message.type === "ready") resolve(message.info);
        else if (message.type === "initError") reject(new Error(message.message));
        else return;
        this.worker.off("message", onMessage);
      };
      this.worker.on("message", onMessage);
      this.once("dead", reject);
    });
    this.ready.then(
      () => (this.readyReached = true),
      () => undefined,
    );
    this.worker.on("message", (message: FromWorker) => this.onMessage(message));
    this.worker.on("error", (error) => this.die(error));
    this.worker.on("exit", (code) => this.die(new WorkerDiedError(`exited with code ${code}`)));
  }

  /** Loaded and past its warm-up forward pass. */
  get isReady(): boolean {
    return this.readyReached;
  }

  get alive(): boolean {
    return this.deadError === null;
  }

  encode(prompt: PromptInput): Promise<EncodedPrompt> {
    const requestId = this.nextId++;
    return this.request(this.encodes, requestId, { type: "encode", requestId, prompt });
  }

  send(admit: AdmitRow[], release: Int32Array): void {
    if (!this.alive) return;
    const transfer = [release.buffer as ArrayBuffer];
    for (const a of admit) transfer.push(a.promptIds.buffer as ArrayBuffer);
    this.post({ type: "control", admit, release, sentAt: wallClockMs() }, transfer);
  }

  /** Asks the worker to release its session and exit; resolves when it has. */
  async close(): Promise<void> {
    if (!this.alive) return;
    const exited = new Promise<void>((resolve) => this.worker.once("exit", () => resolve()));
    this.post({ type: "shutdown" });
    const timer = setTimeout(() => void this.worker.terminate(), 5000);
    await exited;
    clearTimeout(timer);
  }

  /** For fault-injection tests: the thread dies of an uncaught error at its next step boundary. */
  async kill(): Promise<void> {
    const exited = new Promise<void>((resolve) => this.worker.once("exit", () => resolve()));
    this.post({ type: "crash" });
    await exited;
  }

  private request<T>(table: Map<number, Pending<T>>, id: number, message: ToWorker, transfer: ArrayBuffer[] = []): Promise<T> {
    if (this.deadError) return Promise.reject(this.deadError);
    return new Promise<T>((resolve, reject) => {
      table.set(id, { resolve, reject });
      this.post(message, transfer);
    });
  }

  private post(message: ToWorker, transfer: ArrayBuffer[] = []): void {
    this.worker.postMessage(message, transfer);
  }

  private onMessage(message: FromWorker): void {
    switch (message.type) {
      case "encoded":
        settle(this.encodes, message.requestId, (p) => p.resolve({ ids: message.ids, opensReasoning: message.opensReasoning }));
        return;
      case "encodeError":
        settle(this.encodes, message.requestId, (p) => p.reject(deserializeError(message.error, "encode failed in worker")));
        return;
      case "stepDone":
        this.steps.emit("result", message);
        return;
      case "stepError":
        this.steps.emit("failed", new Error(`step ${message.stepId} failed in worker: ${message.message}`));
        return;
      default:
        return;
    }
  }

  private die(error: Error): void {
    if (this.deadError) return;
    this.deadError = error instanceof WorkerDiedError ? error : new WorkerDiedError(error.message);
    for (const p of this.encodes.values()) p.reject(this.deadError);
    this.encodes.clear();
    this.emit("dead", this.deadError);
  }
}

function settle<T>(table: Map<number, Pending<T>>, id: number, action: (p: Pending<T>) => void): void {
  const pending = table.get(id);
  if (!pending) return;
  table.delete(id);
  action(pending);
}
