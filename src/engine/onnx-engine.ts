/**
 * The engine behind the HTTP routes, as a thin facade: it admits a request
 * (checks in prepare-request.ts, one placement by the worker pool, the
 * prompt encoded on that worker), tracks it in the registry for cancel,
 * and leaves the steps to the scheduler. Shutdown drains, then cancels.
 */
import { EventEmitter } from "node:events";
import { statSync } from "node:fs";
import { relative } from "node:path";
import type { Logger } from "pino";
import type { Registry } from "prom-client";
import { servedModelName, type ServerConfig } from "../config.ts";
import type { ValidGenerationRequest } from "../domain.ts";
import { ApiError, InternalError, queueFull, requestIdInUse, unavailable, workerFailed } from "../errors.ts";
import { loadModelFolder, type ModelFolder } from "../model/model-folder.ts";
import type { CancelResult, Engine, EngineHealth, Generation, ModelCard, SubmitOptions } from "./engine.ts";
import { EngineMetrics, type CancelSource } from "./engine-metrics.ts";
import { EngineRequest } from "./engine-request.ts";
import { registerIntrospection, type EngineIntrospectionEvents } from "./introspection.ts";
import { checkToolDecoding } from "./check-tool-decoding.ts";
import { detectToolCallFormat, type ToolCallFormat } from "../generation/tools/tool-call-format.ts";
import { detectReasoningTags, type ReasoningTags } from "../generation/tools/reasoning-tags.ts";
import type { TextShape } from "./choice-text.ts";
import { toolDecoding, type ToolDecoding } from "./tool-decoding.ts";
import { checkBeforeEncoding, completionBudget, type ModelLimits } from "./prepare-request.ts";
import { RequestRegistry } from "./request-registry.ts";
import { Scheduler } from "./scheduler.ts";
import type { WorkerHandle } from "./worker-handle.ts";
import { WorkerPool } from "./worker-pool.ts";

export type OnnxEngineOptions = Pick<
  ServerConfig,
  | "modelPath"
  | "modelName"
  | "dtype"
  | "device"
  | "workers"
  | "threads"
  | "maxBatchSize"
  | "maxQueue"
  | "maxPromptTokens"
  | "maxTokensInFlight"
  | "prefillChunk"
  | "ortSpinning"
  | "toolCallFormat"
> & { logger: Logger };

/** How long shutdown waits for cancelled rows to leave their workers before stopping the threads. */
export const CANCEL_DRAIN_MS = 2000;

export class OnnxEngine implements Engine {
  readonly model: ModelCard;
  private readonly scheduler: Scheduler;
  private readonly registry = new RequestRegistry();
  private readonly metrics: EngineMetrics;
  private readonly pool: WorkerPool;
  private readonly released = new EventEmitter<EngineIntrospectionEvents>();
  /** Set once the workers have loaded the model (see load()); until then the engine refuses work with 503. */
  private limits: ModelLimits | null = null;
  private nextRowId = 1;
  private closing = false;
  /** How this model writes tool calls: --tool-call-format, or read from its chat template. */
  readonly toolCallFormat: ToolCallFormat;
  /** The model's thinking tags, read from its chat template; null: it does not think aloud. */
  private readonly reasoningTags: ReasoningTags | null;

  private constructor(
    private readonly folder: ModelFolder,
    private readonly options: OnnxEngineOptions,
  ) {
    this.toolCallFormat =
      options.toolCallFormat === "auto" ? detectToolCallFormat(folder.toolUseTemplate ?? folder.chatTemplate) : options.toolCallFormat;
    this.reasoningTags = detectReasoningTags(folder.chatTemplate);
    this.model = {
      id: servedModelName(options),
      created: Math.floor(statSync(folder.onnxPath).mtimeMs / 1000),
      ownedBy: "onnx-openai-server",
      contextLength: folder.contextLength,
      dtype: folder.dtype,
      file: relative(folder.dir, folder.onnxPath),
      layout: folder.layout,
      // Known once load() has read the vocabulary (false while loading, when generation answers 503 anyway).
      structuredOutput: false,
    };
    this.scheduler = new Scheduler({ maxBatchSize: options.maxBatchSize, maxTokensInFlight: options.maxTokensInFlight, eosIds: folder.special.eos });
    this.metrics = new EngineMetrics({
      scheduler: this.scheduler,
      maxBatchSize: options.maxBatchSize,
      kvTokensPerWorker: options.maxTokensInFlight,
      readyWorkers: () => this.pool.readyCount,
    });
    this.scheduler.on("released", (id) => this.released.emit("released", id));
    this.scheduler.on("stepFailed", (error) => options.logger.error({ err: error }, "model step failed"));
    const { device, threads, prefillChunk, ortSpinning } = options;
    const init = { modelPath: folder.dir, dtype: folder.dtype, device, threads, prefillChunk, ortSpinning };
    this.pool = new WorkerPool({ init, size: options.workers, logger: options.logger });
    this.pool.on("ready", (worker) => {
      this.scheduler.addRunner(worker);
      this.scheduler.wake();
    });
    this.pool.on("died", (worker) => this.onWorkerDied(worker));
    this.pool.on("restarting", () => this.metrics.workerRestarting());
  }

  /**
   * Reads the model folder (fast, on this thread; throws ModelLoadError when
   * it cannot be served) without starting any worker, so the server can
   * listen and answer its probes while load() runs.
   */
  static open(options: OnnxEngineOptions): OnnxEngine {
    return new OnnxEngine(loadModelFolder(options.modelPath, options.dtype, options.device), options);
  }

  /** open() then load(): an engine ready to serve. */
  static async create(options: OnnxEngineOptions): Promise<OnnxEngine> {
    const engine = OnnxEngine.open(options);
    await engine.load();
    return engine;
  }

  /** Starts every worker; rejects with the reason when the model cannot be served. */
  async load(): Promise<void> {
    const info = await this.pool.start();
    this.limits = {
      contextLength: this.folder.contextLength,
      vocabSize: info.vocabSize,
      maxTokenChars: info.maxTokenChars,
      maxPromptTokens: this.options.maxPromptTokens,
      structuredOutput: info.structuredOutput,
    };
    this.model.structuredOutput = info.structuredOutput.available;
    registerIntrospection(this, {
      events: this.released,
      modelInfo: info,
      activeRequestIds: () => this.registry.activeRequests().map((r) => r.id),
      killWorker: (index = 0) => this.pool.kill(index),
    });
    const { folder } = this;
    this.options.logger.info(
      {
        model: this.model.id,
        layout: folder.layout,
        dtype: folder.dtype,
        onnx: folder.onnxPath,
        // What --dtype could pick instead, so a user sees the choice auto made.
        otherDtypes: folder.availableDtypes.filter((d) => d !== folder.dtype),
        eos: folder.special.eos,
        eosSource: folder.special.eosSource,
        ...info,
      },
      "model loaded",
    );
  }

  /** How a request's choices are read: the model's thinking tags (chat only) and its offered tools. */
  private textShape(valid: ValidGenerationRequest, decoding: ToolDecoding): TextShape {
    const chat = valid.prompt.kind === "chat";
    const tools = valid.tools;
    // Only chat requests carry tools (the protocol sets none for completions).
    const calling = tools !== null && tools.choice.kind !== "none" && tools.tools.length > 0;
    return {
      // A whole-output constraint (a JSON response_format, a forced call) holds the answer from its first token: no thinking block can open.
      reasoning: chat && !decoding.constraint ? this.reasoningTags : null,
      tools: calling
        ? {
            format: this.toolCallFormat,
            names: tools.tools.map((t) => t.name).filter((name) => tools.choice.kind !== "function" || name === tools.choice.name),
            parallel: tools.parallel,
            trusted: decoding.constraint?.kind === "tool_calls",
          }
        : null,
    };
  }

  async start(valid: ValidGenerationRequest, options: SubmitOptions): Promise<Generation> {
    if (this.closing) throw unavailable("The server is shutting down.", 1);
    const limits = this.limits;
    if (limits === null) throw unavailable("The model is loading.", 1);
    // Decided before tokenizing, so an overloaded server spends nothing on the request.
    if (this.scheduler.queuedRows >= this.options.maxQueue) throw queueFull(1);
    if (options.clientRequestId && this.registry.isActive(options.clientRequestId)) {
      throw requestIdInUse(options.clientRequestId);
    }
    const decoding = toolDecoding(valid, this.toolCallFormat);
    checkBeforeEncoding(valid, limits);
    checkToolDecoding(decoding, valid, limits.structuredOutput);
    const worker = this.pool.place((w) => this.scheduler.load(w));
    const request: EngineRequest = new EngineRequest({
      id: options.id,
      clientRequestId: options.clientRequestId,
      owner: options.owner,
      valid,
      decoding,
      shape: this.textShape(valid, decoding),
      nextRowId: () => this.nextRowId++,
      // The HTTP side stops reading early only when its client has gone.
      onAbandon: () => this.cancelRequest(request, "disconnect"),
      onEnded: (r) => this.registry.end(r, true),
    });
    this.registry.add(request);
    if (options.signal.aborted) this.cancelRequest(request, "disconnect");
    else options.signal.addEventListener("abort", () => this.cancelRequest(request, "disconnect"), { once: true });
    this.scheduler.enqueue(request, worker);
    try {
      const { ids, opensReasoning } = await worker.encode(valid.prompt);
      request.setPrompt(ids, completionBudget(ids.length, valid, limits), opensReasoning);
    } catch (error) {
      request.discard();
      this.registry.end(request, false);
      throw error instanceof ApiError ? error : new InternalError("prompt encoding failed", { cause: error });
    } finally {
      this.scheduler.wake();
    }
    return { id: request.id, promptTokens: request.promptLength, events: request.channel, usage: () => request.usage() };
  }

  cancel(handle: string, owner?: string): CancelResult | null {
    const active = this.registry.findActive(handle);
    if (active) {
      if (active.owner !== undefined && active.owner !== owner) return null;
      this.cancelRequest(active, "endpoint");
      return { id: active.id, status: "cancelled", usage: active.usage() };
    }
    const done = this.registry.findFinished(handle);
    if (!done || (done.owner !== undefined && done.owner !== owner)) return null;
    return { id: done.id, status: "already_finished", usage: done.usage };
  }

  health(): EngineHealth {
    const alive = this.pool.readyCount;
    return {
      ready: !this.closing && alive > 0,
      loading: this.limits === null,
      workersAlive: alive,
      workersTotal: this.pool.size,
      queued: this.scheduler.queuedRows,
      running: this.scheduler.runningRows,
      shuttingDown: this.closing,
    };
  }

  get metricsRegistry(): Registry {
    return this.metrics.registry;
  }

  async close(graceMs: number): Promise<void> {
    this.closing = true;
    await this.idleWithin(graceMs);
    for (const request of this.registry.activeRequests()) this.cancelRequest(request, "shutdown");
    await this.idleWithin(CANCEL_DRAIN_MS);
    await this.pool.close();
  }

  private idleWithin(ms: number): Promise<void> {
    const idle = new Promise<void>((resolve) => {
      if (this.scheduler.runningRows === 0 && this.scheduler.queuedRows === 0) resolve();
      else this.scheduler.once("idle", resolve);
    });
    return Promise.race([idle, new Promise<void>((resolve) => setTimeout(resolve, ms).unref())]);
  }

  private cancelRequest(request: EngineRequest, source: CancelSource): void {
    if (request.cancel()) this.metrics.cancelled(source);
    this.scheduler.wake();
  }

  /** Its rows fail (their KV died with it); requests that only waited for it run on another worker. */
  private onWorkerDied(worker: WorkerHandle): void {
    const { held, waiting } = this.scheduler.removeRunner(worker);
    for (const row of held) row.request.fail(workerFailed("died"));
    for (const request of waiting) {
      try {
        this.scheduler.enqueue(request, this.pool.place((w) => this.scheduler.load(w)));
      } catch (error) {
        request.fail(error as ApiError);
      }
    }
    this.scheduler.wake();
  }
}
