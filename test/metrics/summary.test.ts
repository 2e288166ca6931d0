import { describe, expect, it } from "vitest";
import { renderPrometheus } from "../../src/metrics/prometheus.ts";
import { Summary } from "../../src/metrics/summary.ts";

describe("Summary", () => {
  it("reports nearest-rank quantiles, count and sum", () => {
    const s = new Summary(100, [0.5, 0.9, 1]);
    for (const v of [5, 1, 4, 2, 3, 10, 9, 8, 7, 6]) s.observe(v);
    expect(s.snapshot()).toEqual({ count: 10, sum: 55, quantiles: [[0.5, 5], [0.9, 9], [1, 10]] });
  });

  it("computes quantiles over the most recent window only, count and sum over all", () => {
    const s = new Summary(4, [0.5, 1]);
    for (const v of [100, 200, 1, 2, 3, 4]) s.observe(v);
    expect(s.snapshot()).toEqual({ count: 6, sum: 310, quantiles: [[0.5, 2], [1, 4]] });
  });

  it("has NaN quantiles before the first observation", () => {
    const snap = new Summary(8, [0.99]).snapshot();
    expect(snap.count).toBe(0);
    expect(snap.quantiles[0][1]).toBeNaN();
  });
});

describe("renderPrometheus", () => {
  it("writes HELP, TYPE and samples in the text exposition format", () => {
    const text = renderPrometheus([
      { name: "x_rows", help: "Rows.", type: "gauge", value: 3 },
      { name: "x_latency_seconds", help: "Latency.", type: "summary", summary: { count: 2, sum: 0.5, quantiles: [[0.5, 0.2], [0.99, Number.NaN]] } },
    ]);
    expect(text).toBe(
      [
        "# HELP x_rows Rows.",
        "# TYPE x_rows gauge",
        "x_rows 3",
        "# HELP x_latency_seconds Latency.",
        "# TYPE x_latency_seconds summary",
        'x_latency_seconds{quantile="0.5"} 0.2',
        'x_latency_seconds{quantile="0.99"} NaN',
        "x_latency_seconds_sum 0.5",
        "x_latency_seconds_count 2",
        "",
      ].join("\n"),
    );
  });
});
