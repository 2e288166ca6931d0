/**
 * The engine's Prometheus metrics, on a registry of its own: what the
 * scheduler sees (queue wait, prefill, inter-token gaps, steps, releases,
 * rows and KV in use), cancels by where they came from, and worker
 * restarts. Everything is observed from the scheduler's and the pool's
 * events, where each fact happens once; per token it costs one histogram
 * observation. docs/API.md lists every metric and its vLLM counterpart.
 */
import { Counter, Gauge, Histogram, Registry, Summary } from "prom-client";
import { batchBuckets, FIRST_TOKEN_SECONDS, INTER_TOKEN_SECONDS, STEP_SECONDS } from "../metrics/buckets.ts";
import { METRIC_PREFIX } from "../metrics/registry.ts";
import type { EngineRequest } from "./engine-request.ts";
import type { Scheduler } from "./scheduler.ts";

/** Who cancelled a request: the stop endpoint, a client that went away, or shutdown. */
export type CancelSource = "endpoint" | "disconnect" | "shutdown";
export const CANCEL_SOURCES: readonly CancelSource[] = ["endpoint", "disconnect", "shutdown"];

/** Quantiles of the release summaries, over a sliding window so they follow the current load. */
const RELEASE_WINDOW = { percentiles: [0.5, 0.9, 0.99], maxAgeSeconds: 600, ageBuckets: 5 };

export interface EngineMetricsOptions {
  scheduler: Scheduler;
  maxBatchSize: number;
  /** --max-tokens-in-flight: the KV budget of one worker. */
  kvTokensPerWorker: number;
  /** Workers able to take rows now. */
  readyWorkers: () => number;
}

export class EngineMetrics {
  readonly registry = new Registry();
  private readonly cancels: Counter<"source">;
  private readonly restarts: Counter;

  constructor(options: EngineMetricsOptions) {
    const { scheduler } = options;
    const registers = [this.registry];
    const name = (suffix: string): string => METRIC_PREFIX + suffix;

    const queueTime = new Histogram({
      name: name("request_queue_time_seconds"),
      help: "From admission (the request queued on its worker, prompt encoding included) to its first row entering a batch.",
      buckets: [...FIRST_TOKEN_SECONDS],
      registers,
    });
    const prefillTime = new Histogram({
      name: name("request_prefill_time_seconds"),
      help: "From a request's first row entering a batch to its first token.",
      buckets: [...FIRST_TOKEN_SECONDS],
      registers,
    });
    const interToken = new Histogram({
      name: name("inter_token_latency_seconds"),
      help: "Between consecutive tokens of one choice, as they reach the main thread.",
      buckets: [...INTER_TOKEN_SECONDS],
      registers,
    });
    const generated = new Counter({
      name: name("generation_tokens_total"),
      help: "Tokens generated into choices (what usage.completion_tokens sums).",
      registers,
    });
    const stepSeconds = new Histogram({
      name: name("step_seconds"),
      help: "Duration of one batched worker step.",
      buckets: [...STEP_SECONDS],
      registers,
    });
    const stepRows = new Histogram({
      name: name("step_rows"),
      help: "Rows that produced a token in one worker step.",
      buckets: batchBuckets(options.maxBatchSize),
      registers,
    });
    const releaseSeconds = new Summary({
      name: name("release_seconds"),
      help: "From a release (cancel, disconnect, stop string) to the row leaving its worker's batch; quantiles over the last 10 minutes.",
      ...RELEASE_WINDOW,
      registers,
    });
    const releaseSteps = new Summary({
      name: name("release_steps"),
      help: "The release latency in steps of the step the release waited on; quantiles over the last 10 minutes.",
      ...RELEASE_WINDOW,
      registers,
    });
    this.cancels = new Counter({
      name: name("cancels_total"),
      help: "Requests cancelled while running or queued, by source: endpoint (the stop endpoint), disconnect (the client went away), shutdown.",
      labelNames: ["source"],
      registers,
    });
    for (const source of CANCEL_SOURCES) this.cancels.inc({ source }, 0);
    this.restarts = new Counter({
      name: name("worker_restarts_total"),
      help: "Model workers started to replace one that died.",
      registers,
    });
    new Gauge({
      name: name("num_requests_running"),
      help: "Rows (one per choice) held by the model workers.",
      registers,
      collect() {
        this.set(scheduler.runningRows);
      },
    });
    new Gauge({
      name: name("num_requests_waiting"),
      help: "Rows (one per choice) waiting for a batch slot or KV room.",
      registers,
      collect() {
        this.set(scheduler.queuedRows);
      },
    });
    new Gauge({
      name: name("kv_tokens_in_use"),
      help: "KV-cache positions of the rows on the workers: prompt plus tokens generated so far, per row.",
      registers,
      collect() {
        this.set(scheduler.kvTokensInUse);
      },
    });
    new Gauge({
      name: name("kv_tokens_reserved"),
      help: "KV-cache positions promised to the rows on the workers (prompt plus max tokens each), counted against --max-tokens-in-flight.",
      registers,
      collect() {
        this.set(scheduler.kvTokensReserved);
      },
    });
    new Gauge({
      name: name("kv_tokens_capacity"),
      help: "--max-tokens-in-flight times the workers ready to take rows.",
      registers,
      collect() {
        this.set(options.kvTokensPerWorker * options.readyWorkers());
      },
    });

    scheduler.on("scheduled", (request: EngineRequest) => queueTime.observe((request.scheduledAtMs - request.queuedAtMs) / 1000));
    scheduler.on("firstToken", (request: EngineRequest) => prefillTime.observe((request.firstTokenAtMs - request.scheduledAtMs) / 1000));
    scheduler.on("tokens", (accepted, gapsMs) => {
      generated.inc(accepted);
      for (let i = 0; i < gapsMs.length; i++) interToken.observe(gapsMs[i] / 1000);
    });
    scheduler.on("step", (ms, rows) => {
      stepSeconds.observe(ms / 1000);
      stepRows.observe(rows);
    });
    scheduler.on("rowLeft", (ms, steps) => {
      releaseSeconds.observe(ms / 1000);
      releaseSteps.observe(steps);
    });
  }

  /** A request was cancelled (counted only when the cancel ended it: not for one already finished). */
  cancelled(source: CancelSource): void {
    this.cancels.inc({ source });
  }

  workerRestarting(): void {
    this.restarts.inc();
  }
}
