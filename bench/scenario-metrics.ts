/** Latency and throughput of one scenario from its client-side stream timings, and the checks they must pass. */
import type { StreamTiming } from "./completion-client.ts";
import type { LoadRun } from "./load-runners.ts";
import { percentiles, sum, type Percentiles } from "./stats.ts";

export interface ScenarioMetrics {
  requests: number;
  wallMs: number;
  completionTokens: number;
  /** Completion tokens of the scenario / its wall time. */
  tokensPerSec: number;
  /** Request start -> first content chunk. */
  ttftMs: Percentiles;
  /** Between consecutive content chunks of a stream, pooled over streams. */
  itlMs: Percentiles;
  /** Request start -> end of the stream. */
  e2eMs: Percentiles;
  /** Over all streams: tokens after the first / time from the first content chunk to the final chunk. */
  streamDecodeTokensPerSec: number;
}

export function scenarioMetrics(run: LoadRun): ScenarioMetrics {
  const { timings, wallMs } = run;
  const tokens = sum(timings.map((t) => t.completionTokens ?? 0));
  const itl = timings.flatMap((t) => t.contentMs.slice(1).map((ms, i) => ms - t.contentMs[i]));
  const decoding = timings.flatMap((t) => {
    const first = t.contentMs[0];
    if (first === undefined || t.finishMs === null || t.completionTokens === null || t.finishMs <= first) return [];
    return [{ tokens: t.completionTokens - 1, ms: t.finishMs - first }];
  });
  const decodeMs = sum(decoding.map((d) => d.ms));
  return {
    requests: timings.length,
    wallMs,
    completionTokens: tokens,
    tokensPerSec: (tokens * 1000) / wallMs,
    ttftMs: percentiles(timings.flatMap((t) => (t.contentMs[0] === undefined ? [] : [t.contentMs[0] - t.startMs]))),
    itlMs: percentiles(itl),
    e2eMs: percentiles(timings.map((t) => t.endMs - t.startMs)),
    streamDecodeTokensPerSec: decodeMs > 0 ? (sum(decoding.map((d) => d.tokens)) * 1000) / decodeMs : Number.NaN,
  };
}

/** Throws unless every stream ran to exactly `maxTokens` tokens with finish_reason "length". */
export function assertFullLength(timings: StreamTiming[], maxTokens: number, scenario: string): void {
  const bad = timings.filter((t) => t.completionTokens !== maxTokens || t.finishReason !== "length");
  if (bad.length === 0) return;
  const shown = bad
    .slice(0, 3)
    .map((t) => `${t.id}: ${t.completionTokens ?? "no usage"} tokens, finish_reason ${t.finishReason ?? "none"}`)
    .join("; ");
  throw new Error(`${scenario}: ${bad.length}/${timings.length} streams did not produce exactly ${maxTokens} tokens (${shown})`);
}
