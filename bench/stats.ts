/** Percentiles and small summaries of latency samples. */

export interface Percentiles {
  p50: number;
  p99: number;
  count: number;
}

/** Linear interpolation between closest ranks; NaN for an empty sample. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = (p / 100) * (sorted.length - 1);
  const lo = Math.floor(rank);
  const hi = Math.ceil(rank);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (rank - lo);
}

export function percentiles(values: readonly number[]): Percentiles {
  return { p50: percentile(values, 50), p99: percentile(values, 99), count: values.length };
}

export function sum(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0);
}
