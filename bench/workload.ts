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
  poissonRequests: number;
  /** Poisson rate as a fraction of the measured c=16 request throughput. */
  poissonLoad: number;
  /** Requests in the cancellation scenario (all in flight at once); every other one is cancelled. */
  cancelRequests: number;
  /** The first cancelled stream is cancelled after this many content chunks, the next one chunk later, and so on. */
  cancelAfterChunks: number;
  /** Upper bound on one scenario's wall time; outstanding requests are aborted past it. */
  scenarioTimeoutMs: number;
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
    poissonRequests: quick ? 16 : 32,
    poissonLoad: 0.7,
    cancelRequests: 16,
    cancelAfterChunks: Math.max(2, Math.floor(maxTokens / 4)),
    scenarioTimeoutMs: quick ? 120_000 : 600_000,
  };
}
