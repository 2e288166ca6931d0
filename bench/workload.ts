/** How many requests of what size each measurement sends; --quick halves lengths and counts. */

export interface Workload {
  /** Prompt length in tokens, the same for every request and every raw-loop row. */
  promptLength: number;
  /** Completion tokens of every request (EOS is suppressed with logit_bias). */
  maxTokens: number;
  rawBatchSizes: readonly [1, 16];
  /** Raw-loop runs per batch size; the run with the median decode rate is reported. */
  rawRepeats: number;
  sequentialRequests: number;
  c4Requests: number;
  c16Requests: number;
  /** Requests of the one-at-a-time scenario (c=16 against --max-batch-size 1). */
  oneAtATimeRequests: number;
  poissonRequests: number;
  /** Poisson rate as a fraction of the measured c=16 request throughput. */
  poissonLoad: number;
  /** Requests in the cancellation scenario (all in flight at once); every other one is cancelled. */
  cancelRequests: number;
  /** The first cancelled stream is cancelled after this many content chunks, the next one chunk later, and so on. */
  cancelAfterChunks: number;
  /** Upper bound on one scenario's wall time; outstanding requests are aborted past it. */
  scenarioTimeoutMs: number;
  /**
   * A fast model gets more requests, so that each scenario lasts about this
   * long at the raw loop's rate: the default model finishes 32 requests in
   * well under a second, which timer and scheduler noise would dominate.
   */
  minScenarioMs: number;
  /** Raw-loop runs continue past rawRepeats until they have taken this long in all. */
  minRawMs: number;
  /** Rounds of the paired measurements behind the ratio lines (paired-rounds.ts). */
  pairedRounds: number;
  /**
   * A pair's server side gets requests for about this long at the raw loop's
   * rate, and its raw side as many runs (one per request, one per wave of 16 at batch 16).
   */
  pairedMs: number;
  /** Per round: c=1 requests, c=16 requests and one-at-a-time requests (multiples of 16). */
  pairedSequentialRequests: number;
  pairedC16Requests: number;
  pairedOneAtATimeRequests: number;
}

/**
 * The request counts scaled up for a fast model: enough requests to keep
 * each scenario busy for minScenarioMs at the rate the raw loop measured
 * (batch 1 for the sequential and one-at-a-time scenarios, batch 16 for the
 * concurrent ones), never fewer than the base counts.
 */
export function scaleToModel(w: Workload, raw1TokPerSec: number, raw16TokPerSec: number): Workload {
  const requestsFor = (base: number, tokPerSec: number): number =>
    Math.max(base, Math.ceil((w.minScenarioMs / 1000) * (tokPerSec / w.maxTokens)));
  /** Requests that last about pairedMs at this rate. */
  const pairedFor = (tokPerSec: number): number => ((w.pairedMs / 1000) * tokPerSec) / w.maxTokens;
  // Whole waves of 16, so a paired c=16 measurement does not end on a few lone rows.
  const wavesOf16 = (tokPerSec: number): number => 16 * Math.max(1, Math.round(pairedFor(tokPerSec) / 16));
  return {
    ...w,
    sequentialRequests: requestsFor(w.sequentialRequests, raw1TokPerSec),
    c4Requests: requestsFor(w.c4Requests, raw16TokPerSec),
    c16Requests: requestsFor(w.c16Requests, raw16TokPerSec),
    poissonRequests: requestsFor(w.poissonRequests, raw16TokPerSec),
    oneAtATimeRequests: requestsFor(w.oneAtATimeRequests, raw1TokPerSec),
    pairedSequentialRequests: Math.max(1, Math.round(pairedFor(raw1TokPerSec))),
    pairedC16Requests: wavesOf16(raw16TokPerSec),
    pairedOneAtATimeRequests: wavesOf16(raw1TokPerSec),
  };
}

export function workloadFor(quick: boolean): Workload {
  const maxTokens = quick ? 32 : 64;
  return {
    promptLength: 32,
    maxTokens,
    rawBatchSizes: [1, 16],
    rawRepeats: 3,
    sequentialRequests: quick ? 4 : 8,
    c4Requests: quick ? 8 : 16,
    c16Requests: quick ? 16 : 32,
    oneAtATimeRequests: quick ? 16 : 32,
    poissonRequests: quick ? 16 : 32,
    poissonLoad: 0.7,
    cancelRequests: quick ? 16 : 64,
    cancelAfterChunks: Math.max(2, Math.floor(maxTokens / 4)),
    scenarioTimeoutMs: quick ? 120_000 : 600_000,
    minScenarioMs: quick ? 1000 : 5000,
    minRawMs: quick ? 300 : 2000,
    pairedRounds: quick ? 3 : 5,
    pairedMs: quick ? 300 : 2000,
    // Set by scaleToModel from the raw loop's rates.
    pairedSequentialRequests: 1,
    pairedC16Requests: 16,
    pairedOneAtATimeRequests: 16,
  };
}
