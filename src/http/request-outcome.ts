/**
 * What one generation request came to, gathered while it runs, for its
 * metrics and its log line. It is created when the request arrives (before
 * authentication and body parsing, so refused requests count too) and
 * finishes exactly once: when its response has closed and, if its handler
 * ran, the handler has returned. The handler drains the engine's events
 * even after a client has gone, so the finish reasons are the engine's.
 */
import type { FinishReason, Usage } from "../domain.ts";
import type { Generation, TokenEvent } from "../engine/engine.ts";
import type { RequestFinishReason } from "../metrics/request-metrics.ts";
import type { ParsedGenerationRequest } from "../protocol/request-common.ts";

export type GenerationEndpoint = "/v1/chat/completions" | "/v1/completions";

/** A finished generation request, as its log line and the metrics see it. */
export interface FinishedRequest {
  endpoint: GenerationEndpoint;
  status: number;
  finishReason: RequestFinishReason;
  /** The completion id (chatcmpl-… / cmpl-…); null when the request was refused before its handler ran. */
  completionId: string | null;
  /** The client's X-Request-Id, when it sent a well-formed one. */
  clientRequestId: string | null;
  /** The request as validated; null when its body was refused. */
  parsed: ParsedGenerationRequest | null;
  /** Null unless the engine admitted the request. */
  usage: Usage | null;
  /** Arrival to the first token (see RequestOutcome.firstToken); null when none was delivered. */
  timeToFirstTokenMs: number | null;
  /** Arrival to the end of the response. */
  durationMs: number;
}

/** Where a request's figures go: the metrics and the log. */
export interface OutcomeSink {
  firstToken(secondsSinceArrival: number): void;
  finished(request: FinishedRequest): void;
}

/** An event that follows from a sampled token; a cancel's finish does not. */
export const carriesToken = (event: TokenEvent): boolean =>
  event.type === "delta" || (event.type === "finish" && event.finishReason !== "cancelled");

export class RequestOutcome {
  completionId: string | null = null;
  parsed: ParsedGenerationRequest | null = null;
  private generation: Generation | null = null;
  private readonly reasons = new Set<FinishReason>();
  private hasFailed = false;
  private firstTokenAtMs = Number.NaN;
  private handler: "not started" | "running" | "returned" = "not started";
  private status: number | null = null;
  private done = false;

  constructor(
    readonly endpoint: GenerationEndpoint,
    /** performance.now() when the request arrived. */
    private readonly arrivedAtMs: number,
    readonly clientRequestId: string | null,
    private readonly sink: OutcomeSink,
  ) {}

  handlerStarted(): void {
    if (this.handler === "not started") this.handler = "running";
  }

  /** `threw`: the handler ended by throwing, which after admission means the generation failed. */
  handlerReturned(threw: boolean): void {
    if (threw) this.hasFailed = true;
    this.handler = "returned";
    this.finishIfComplete();
  }

  admitted(generation: Generation): void {
    this.generation = generation;
  }

  /** Every event the handler takes from the engine, written to the client or not. */
  event(event: TokenEvent): void {
    if (event.type === "finish") this.reasons.add(event.finishReason);
    else if (event.type === "error") this.hasFailed = true;
  }

  /** The generation failed in a way the events do not show (a stream reports it in-band instead of throwing). */
  failed(): void {
    this.hasFailed = true;
  }

  /** Marks the first token's delivery: its chunk written (streamed), or its event taken (not streamed). Later calls do nothing. */
  firstToken(): void {
    if (!Number.isNaN(this.firstTokenAtMs)) return;
    this.firstTokenAtMs = performance.now();
    this.sink.firstToken((this.firstTokenAtMs - this.arrivedAtMs) / 1000);
  }

  /** Its HTTP status, or 499 when the client closed the connection before a response head was sent. */
  responseClosed(status: number): void {
    this.status ??= status;
    this.finishIfComplete();
  }

  private finishIfComplete(): void {
    if (this.done || this.status === null || this.handler === "running") return;
    this.done = true;
    this.sink.finished({
      endpoint: this.endpoint,
      status: this.status,
      finishReason: this.finishReason(),
      completionId: this.completionId,
      clientRequestId: this.clientRequestId,
      parsed: this.parsed,
      usage: this.generation?.usage() ?? null,
      timeToFirstTokenMs: Number.isNaN(this.firstTokenAtMs) ? null : this.firstTokenAtMs - this.arrivedAtMs,
      durationMs: performance.now() - this.arrivedAtMs,
    });
  }

  /**
   * A request with several choices has one reason: error if it failed,
   * else cancelled if any choice was, else length if any choice ran out of
   * tokens, else stop.
   */
  private finishReason(): RequestFinishReason {
    if (this.generation === null) return "none";
    if (this.hasFailed) return "error";
    for (const reason of ["cancelled", "length", "stop"] as const) if (this.reasons.has(reason)) return reason;
    // Admitted, yet no choice finished and no error event: the handler stopped early on a fault of its own.
    return "error";
  }
}
