/**
 * The engine: admission (queue bound, prompt encoding in a worker, context
 * checks), the request registry for cancel, the worker pool's life cycle,
 * and the scheduler that runs the steps.
 */
import { statSync } from "node:fs";
import { availableParallelism } from "node:os";
import { EventEmitter } from "node:events";
import type { Logger } from "pino";
import { ApiError, conflict, contextLengthExceeded, invalidRequest, promptFarTooLong, queueFull, unavailable } from "../errors.ts";
import { loadModelFolder, type ModelFolder } from "../model/model-folder.ts";
import { ModelLoadError } from "../model/model-load-error.ts";
import type { WorkerModelInfo } from "../worker/messages.ts";
import { EngineMetricsCollector } from "./engine-metrics.ts";
import { EngineRequest } from "./engine-request.ts";
import { RequestRegistry } from "./request-registry.ts";
import { Scheduler } from "./scheduler.ts";
import type { ValidGenerationRequest } from "../domain.ts";
import type { CancelResult, Engine, EngineHealth, EngineMetrics, Generation, ModelCard, SubmitOptions } from "./engine.ts";
import { WorkerHandle } from "./worker-handle.ts";

export interface OnnxEngineOptions {
  modelPath: string;
  modelName: string | null;
  device: "cpu" | "cuda";
  workers: number;
  threads: number | "auto";
  maxBatchSize: number;
  /** Rows waiting for a worker (or being encoded) before new requests get 429. */
  maxQueue: number;
  maxPromptTokens: number | null;
  maxTokensInFlight: number;
  /** Prompt tokens prefilled per worker step, so long prompts do not stall decoding rows. */
  prefillChunk: number;
  ortSpinning: "auto" | "on" | "off";
  logger: Logger;
}

export interface EngineEvents {
  /** Every row of the request has left its worker: its KV cache is freed. */
  released: [requestId: string];
}

export class OnnxEngine implements Engine {
  readonly model: ModelCard;
  readonly events = new EventEmitter<EngineEvents>();
  private readonly scheduler: Scheduler;
  private readonly registry = new RequestRegistry();
  private readonly collector: EngineMetricsCollector;
  private readonly workers: WorkerHandle[] = [];
  private info!: WorkerModelInfo;
  private encoding = 0;
  private nextRowId = 1;
  private roundRobin = 0;
  private closing = false;
  /** Workers are replaced after a crash only once the engine has started. */
  private started = false;

  private constructor(
    readonly folder: ModelFolder,
    private readonly options: OnnxEngineOptions,
  ) {
    this.model = {
      id: options.modelName ?? folder.name,
      created: Math.floor(statSync(folder.onnxPath).mtimeMs / 1000),
      ownedBy: "onnx-openai-server",
      contextLength: folder.contextLength,
    };
    this.scheduler = new Scheduler({
      maxBatchSize: options.maxBatchSize,
      maxTokensInFlight: options.maxTokensInFlight,
      eosIds: folder.special.eos,
    });
    this.collector = new EngineMetricsCollector(this.scheduler);
    this.scheduler.on("released", (id) => this.events.emit("released", id));
    this.scheduler.on("stepFailed", (error) => options.logger.error({ err: error }, "model step failed"));
  }

  /** Loads the folder and starts every worker; rejects with the reason when the model cannot be served. */
  static async create(options: OnnxEngineOptions): Promise<OnnxEngine> {
    const engine = new OnnxEngine(loadModelFolder(options.modelPath), options);
    try {
      const infos = await Promise.all(Array.from({ length: options.workers }, () => engine.spawnWorker()));
      engine.info = infos[0]!;
      engine.started = true;
    } catch (error) {
      engine.closing = true;
      await Promise.all(engine.workers.map((w) => w.close()));
      throw error instanceof ModelLoadError ? error : new Error(`model worker failed to start: ${(error as Error).message}`);
    }
    options.logger.info(
      {
        model: engine.model.id,
        layout: engine.folder.layout,
        onnx: engine.folder.onnxPath,
        eos: engine.folder.special.eos,
        eosSource: engine.folder.special.eosSource,
        ...engine.info,
      },
      "model loaded",
    );
    return engine;
  }

  get modelInfo(): WorkerModelInfo {
    return this.info;
  }

  async start(valid: ValidGenerationRequest, options: SubmitOptions): Promise<Generation> {
    if (this.closing) throw unavailable("The server is shutting down.");
    const worker = this.pickWorker();
    // Decided before tokenizing, so an overloaded server spends nothing on the request.
    if (this.scheduler.queuedRows + this.encoding >= this.options.maxQueue) throw queueFull(1);
    if (options.clientRequestId && this.registry.isActive(options.clientRequestId)) {
      throw conflict(`X-Request-Id "${options.clientRequestId}" is already in use by a running request.`, "X-Request-Id");
    }
    this.checkLogitBias(valid);
    this.refuseHugePrompt(valid);
    const request = new EngineRequest({
      id: options.id,
      clientRequestId: options.clientRequestId,
      owner: options.owner,
      valid,
      eosIds: this.folder.special.eos,
      nextRowId: () => this.nextRowId++,
      onAbandon: () => this.cancelRequest(request),
      onEnded: (r) => this.registry.end(r, true),
    });
    this.registry.add(request);
    const onAbort = (): void => this.cancelRequest(request);
    if (options.signal.aborted) onAbort();
    else options.signal.addEventListener("abort", onAbort, { once: true });

    this.encoding++;
    let ids: Int32Array;
    try {
      ids = await worker.encode(valid.prompt);
    } catch (error) {
      this.registry.end(request, false);
      throw error instanceof ApiError ? error : new Error(`prompt encoding failed: ${(error as Error).message}`);
    } finally {
      this.encoding--;
    }
    try {
      request.setPrompt(ids, this.completionBudget(ids.length, valid));
    } catch (error) {
      this.registry.end(request, false);
      throw error;
    }
    // Cancelled while encoding: it ended without entering the queue.
    if (!request.isEnded) this.scheduler.enqueue(request);
    else this.events.emit("released", request.id);
    return { id: request.id, promptTokens: ids.length, events: request.channel };
  }

  cancel(handle: string, owner?: string): CancelResult | null {
    const active = this.registry.findActive(handle);
    if (active) {
      if (active.owner !== undefined && active.owner !== owner) return null;
      this.cancelRequest(active);
      return { id: active.id, status: "cancelled", usage: active.usage() };
    }
    const done = this.registry.findFinished(handle);
    if (!done || (done.owner !== undefined && done.owner !== owner)) return null;
    return { id: done.id, status: "already_finished", usage: done.usage };
  }

  health(): EngineHealth {
    const alive = this.workers.filter((w) => w.alive && w.isReady).length;
    return {
      ready: !this.closing && alive > 0,
      workersAlive: alive,
      workersTotal: this.options.workers,
      queued: this.scheduler.queuedRows,
      running: this.scheduler.runningRows,
      shuttingDown: this.closing,
    };
  }

  metrics(): EngineMetrics {
    return this.collector.snapshot();
  }

  /** Ids of requests that have not ended, for introspection in tests and logs. */
  activeRequestIds(): string[] {
    return this.registry.activeRequests().map((r) => r.id);
  }

  async close(graceMs: number): Promise<void> {
    this.closing = true;
    const idle = new Promise<void>((resolve) => {
      if (this.scheduler.runningRows === 0 && this.scheduler.queuedRows === 0 && this.encoding === 0) resolve();
      else this.scheduler.once("idle", resolve);
    });
    const timer = new Promise<void>((resolve) => setTimeout(resolve, graceMs).unref());
    await Promise.race([idle, timer]);
    for (const request of this.registry.activeRequests()) this.cancelRequest(request);
    await Promise.race([
      new Promise<void>((resolve) => (this.scheduler.runningRows === 0 ? resolve() : this.scheduler.once("idle", resolve))),
      new Promise<void>((resolve) => setTimeout(resolve, 2000).unref()),
    ]);
    await Promise.all(this.workers.map((w) => w.close()));
  }

  /** For fault-injection tests: kills one worker thread as a crash would. */
  async killWorker(index = 0): Promise<void> {
    await this.workers[index]?.kill();
  }

  private cancelRequest(request: EngineRequest): void {
    request.cancel();
    this.scheduler.wake();
  }

  private completionBudget(promptTokens: number, valid: ValidGenerationRequest): number {
    const context = this.folder.contextLength;
    if (this.options.maxPromptTokens !== null && promptTokens > this.options.maxPromptTokens) {
      throw invalidRequest(
        `The prompt has ${promptTokens} tokens; this server accepts at most ${this.options.maxPromptTokens}.`,
        valid.promptParam,
        "context_length_exceeded",
      );
    }
    const maxTokens = valid.maxTokens ?? context - promptTokens;
    if (maxTokens < 1 || promptTokens + maxTokens > context) {
      throw contextLengthExceeded(promptTokens, Math.max(maxTokens, 1), context, valid.promptParam);
    }
    return maxTokens;
  }

  /**
   * A prompt so long that it cannot fit whatever its tokens turn out to be
   * is refused here, so that megabytes of text never occupy a worker.
   * Bound: a token covers at most maxTokenChars characters; the factor 2
   * leaves room for normalizers that change the text's length.
   */
  private refuseHugePrompt(valid: ValidGenerationRequest): void {
    const prompt = valid.prompt;
    if (prompt.kind === "tokens") return;
    const chars = prompt.kind === "text" ? prompt.text.length : prompt.messages.reduce((n, m) => n + m.content.length, 0);
    const atLeast = Math.floor(chars / (2 * this.info.maxTokenChars));
    if (atLeast > this.folder.contextLength) throw promptFarTooLong(atLeast, this.folder.contextLength, valid.promptParam);
  }

  private checkLogitBias(valid: ValidGenerationRequest): void {
    for (const [id] of valid.sampling.logitBias) {
      if (id >= this.info.vocabSize) {
        throw invalidRequest(`logit_bias token id ${id} is outside the vocabulary [0, ${this.info.vocabSize}).`, `logit_bias.${id}`);
      }
    }
  }

  private pickWorker(): WorkerHandle {
    const ready = this.workers.filter((w) => w.alive && w.isReady);
    if (ready.length === 0) throw unavailable("No model worker is ready.", 1);
    return ready[this.roundRobin++ % ready.length]!;
  }

  private async spawnWorker(): Promise<WorkerModelInfo> {
    const worker = new WorkerHandle({
      modelPath: this.folder.dir,
      device: this.options.device,
      threads: this.options.threads,
      cores: Math.max(1, Math.floor(availableParallelism() / this.options.workers)),
      prefillChunk: this.options.prefillChunk,
      ortSpinning: this.options.ortSpinning,
    });
    this.workers.push(worker);
    worker.on("dead", (error) => this.onWorkerDead(worker, error));
    const info = await worker.ready;
    this.scheduler.addRunner(worker);
    return info;
  }

  private onWorkerDead(worker: WorkerHandle, error: Error): void {
    const index = this.workers.indexOf(worker);
    if (index !== -1) this.workers.splice(index, 1);
    const failure = new ApiError(500, "server_error", "The model worker stopped unexpectedly; the request was aborted.");
    for (const row of this.scheduler.removeRunner(worker)) row.request.fail(failure);
    this.scheduler.wake();
    if (this.closing || !this.started) return;
    this.options.logger.error({ err: error }, "model worker died; starting a replacement");
    this.spawnWorker().catch((e: Error) => this.options.logger.error({ err: e }, "replacement worker failed to start"));
  }
}
