/**
 * Histogram buckets for LLM serving. A histogram's quantiles are only as
 * fine as its buckets around them, so each set is dense where this server's
 * figures fall (small models on CPUs: milliseconds per token; large ones on
 * GPUs or under load: tenths of seconds and more) and reaches far enough
 * that a saturated server still lands in a finite bucket. docs/API.md lists
 * them with the metrics that use them.
 */

/**
 * Time to first token, queue wait and prefill: from about a millisecond (a
 * short prompt on an idle worker) to minutes (a long queue), roughly three
 * steps per decade.
 */
export const FIRST_TOKEN_SECONDS = [
  0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.5, 0.75, 1, 1.5, 2, 3, 5, 7.5, 10, 20, 40, 80, 160,
] as const;

/**
 * Inter-token latency: one decode step of the batch a row is in. A 135M
 * model on a laptop core decodes in 5-25 ms, the shipped test model in
 * under one; above a second the server is overloaded and finer steps
 * there would say nothing more.
 */
export const INTER_TOKEN_SECONDS = [
  0.0005, 0.001, 0.0025, 0.005, 0.0075, 0.01, 0.015, 0.02, 0.03, 0.04, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.5, 0.75, 1, 2.5,
] as const;

/** End-to-end request time: from a refused-quickly request to a long generation on a loaded server. */
export const REQUEST_SECONDS = [
  0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 1.5, 2, 2.5, 5, 10, 15, 20, 30, 45, 60, 120, 240, 480, 960, 1920,
] as const;

/** One worker step (prefill chunks and a decode of the whole batch): sub-millisecond to seconds. */
export const STEP_SECONDS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5] as const;

/**
 * Tokens per request (prompt, or generated): 1, 2, 5, 10, 20, 50, ... up to
 * the model's context length, which is the last finite bucket (as vLLM
 * builds them), so the top bucket means "filled the context".
 */
export function tokenBuckets(contextLength: number): number[] {
  const buckets: number[] = [];
  for (let decade = 1; decade <= contextLength; decade *= 10) {
    for (const m of [1, 2, 5]) if (m * decade < contextLength) buckets.push(m * decade);
  }
  buckets.push(contextLength);
  return buckets;
}

/** Rows per step: powers of two up to the batch size, which is the last bucket. */
export function batchBuckets(maxBatchSize: number): number[] {
  const buckets: number[] = [];
  for (let rows = 1; rows < maxBatchSize; rows *= 2) buckets.push(rows);
  buckets.push(maxBatchSize);
  return buckets;
}
