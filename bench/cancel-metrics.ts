/** Cancellation latency: cancel sent -> the stream's final chunk (finish_reason "cancelled"). */
import type { StreamTiming } from "./completion-client.ts";
import { percentiles, type Percentiles } from "./stats.ts";

export interface CancelMetrics {
  /** Streams a cancel was sent for. */
  attempted: number;
  /** Of those, streams that ended "cancelled" (the rest finished first). */
  cancelled: number;
  latencyMs: Percentiles;
  /** Cancel sent -> the cancel call's own 200: how much of the latency is one HTTP round trip. */
  roundTripMs: Percentiles;
}

export function cancelMetrics(timings: StreamTiming[], maxTokens: number): CancelMetrics {
  const attempted = timings.filter((t) => t.cancelSentMs !== null);
  const failed = attempted.filter((t) => t.cancelStatus !== 200);
  if (failed.length > 0) throw new Error(`cancel: ${failed.length} cancel calls did not answer 200 (first: ${failed[0].cancelStatus})`);
  const cancelled = attempted.filter((t) => t.finishReason === "cancelled");
  const wrong = cancelled.filter((t) => t.completionTokens === null || t.completionTokens >= maxTokens);
  if (wrong.length > 0) throw new Error(`cancel: ${wrong.length} cancelled streams report ${wrong[0].completionTokens} tokens`);
  const others = timings.filter((t) => t.cancelSentMs === null && (t.finishReason !== "length" || t.completionTokens !== maxTokens));
  if (others.length > 0) throw new Error(`cancel: ${others.length} streams that were not cancelled did not run to ${maxTokens} tokens`);
  return {
    attempted: attempted.length,
    cancelled: cancelled.length,
    latencyMs: percentiles(cancelled.map((t) => t.finishMs! - t.cancelSentMs!)),
    roundTripMs: percentiles(cancelled.map((t) => t.cancelAnsweredMs! - t.cancelSentMs!)),
  };
}
