/**
 * A Prometheus-style summary: count and sum since start, and quantiles over
 * the most recent observations only, so the figures follow the current load
 * instead of averaging over the whole life of the process. The window is a
 * fixed ring buffer; sorting it happens at scrape time, never per observation.
 */
export interface SummarySnapshot {
  count: number;
  sum: number;
  /** [quantile, value] pairs; the value is NaN when nothing was observed yet. */
  quantiles: Array<[number, number]>;
}

export const DEFAULT_QUANTILES = [0.5, 0.9, 0.99] as const;

export class Summary {
  private readonly window: Float64Array;
  private filled = 0;
  private next = 0;
  private count = 0;
  private sum = 0;

  constructor(
    windowSize = 2048,
    private readonly quantiles: readonly number[] = DEFAULT_QUANTILES,
  ) {
    this.window = new Float64Array(windowSize);
  }

  observe(value: number): void {
    this.count++;
    this.sum += value;
    this.window[this.next] = value;
    this.next = (this.next + 1) % this.window.length;
    this.filled = Math.min(this.filled + 1, this.window.length);
  }

  snapshot(): SummarySnapshot {
    const sorted = this.window.slice(0, this.filled).sort();
    return {
      count: this.count,
      sum: this.sum,
      quantiles: this.quantiles.map((q) => [q, nearestRank(sorted, q)]),
    };
  }
}

/** The nearest-rank quantile: the smallest observation with at least q of them at or below it. */
function nearestRank(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.max(1, Math.ceil(q * sorted.length));
  return sorted[rank - 1];
}
