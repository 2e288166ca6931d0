/**
 * The per-request Prometheus metrics of the HTTP side, on the app's own
 * registry: what only the route knows (endpoint, status, when the first
 * token's chunk was written, when the response ended). Each generation
 * request is reported here exactly once, by http/request-tracking.ts.
 */
import { Counter, Histogram, Registry } from "prom-client";
import { FIRST_TOKEN_SECONDS, REQUEST_SECONDS, tokenBuckets } from "./buckets.ts";
import { METRIC_PREFIX } from "./registry.ts";

/** A request's finish reason: its choices' (see docs/API.md), "error", or "none" for a request refused before generating. */
export type RequestFinishReason = "stop" | "length" | "cancelled" | "tool_calls" | "error" | "none";

/** What a finished generation request contributes to the metrics. */
export interface FinishedRequestFigures {
  /** The route: /v1/chat/completions or /v1/completions. */
  endpoint: string;
  status: number;
  finishReason: RequestFinishReason;
  /** Present when the engine admitted the request (it generated, or was cancelled or failed while doing so). */
  generation: { seconds: number; promptTokens: number; generationTokens: number } | null;
}

export class RequestMetrics {
  readonly registry = new Registry();
  private readonly requests: Counter<"endpoint" | "status" | "finish_reason">;
  private readonly timeToFirstToken: Histogram;
  private readonly e2e: Histogram;
  private readonly promptTokens: Histogram;
  private readonly generationTokens: Histogram;

  /** `contextLength` bounds the token histograms' buckets. */
  constructor(contextLength: number) {
    const registers = [this.registry];
    this.requests = new Counter({
      name: `${METRIC_PREFIX}requests_total`,
      help: "Generation requests by endpoint, HTTP status and finish reason (none: refused before generating), counted once each when the response ends.",
      labelNames: ["endpoint", "status", "finish_reason"],
      registers,
    });
    this.timeToFirstToken = new Histogram({
      name: `${METRIC_PREFIX}time_to_first_token_seconds`,
      help: "From the request's arrival to its first token's chunk written (streamed) or its first token (not streamed).",
      buckets: [...FIRST_TOKEN_SECONDS],
      registers,
    });
    this.e2e = new Histogram({
      name: `${METRIC_PREFIX}e2e_request_latency_seconds`,
      help: "From the arrival of a request the engine admitted to the end of its response.",
      buckets: [...REQUEST_SECONDS],
      registers,
    });
    const tokens = tokenBuckets(contextLength);
    this.promptTokens = new Histogram({
      name: `${METRIC_PREFIX}request_prompt_tokens`,
      help: "Prompt tokens of each request the engine admitted.",
      buckets: tokens,
      registers,
    });
    this.generationTokens = new Histogram({
      name: `${METRIC_PREFIX}request_generation_tokens`,
      help: "Tokens generated for each request the engine admitted, all choices together.",
      buckets: tokens,
      registers,
    });
  }

  firstToken(seconds: number): void {
    this.timeToFirstToken.observe(seconds);
  }

  finished(figures: FinishedRequestFigures): void {
    this.requests.inc({ endpoint: figures.endpoint, status: String(figures.status), finish_reason: figures.finishReason });
    if (figures.generation === null) return;
    this.e2e.observe(figures.generation.seconds);
    this.promptTokens.observe(figures.generation.promptTokens);
    this.generationTokens.observe(figures.generation.generationTokens);
  }
}
