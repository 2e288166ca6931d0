/**
 * The strict text-format checker the /metrics tests rely on: it must refuse
 * what Prometheus's parser or promtool would, or those tests prove nothing.
 */
import { describe, expect, it } from "vitest";
import { MetricsFormatError, parsePrometheusText, sampleValue } from "../support/prometheus-text.ts";

const histogram = (buckets: string, count = "3"): string =>
  `# HELP h_seconds A histogram.\n# TYPE h_seconds histogram\n${buckets}h_seconds_sum 1.5\nh_seconds_count ${count}\n`;
const GOOD_BUCKETS = 'h_seconds_bucket{le="0.1"} 1\nh_seconds_bucket{le="1"} 2\nh_seconds_bucket{le="+Inf"} 3\n';

describe("parsePrometheusText", () => {
  it("reads a well-formed exposition: escapes, NaN and Inf spellings, summaries, blank lines", () => {
    const text =
      histogram(GOOD_BUCKETS) +
      "\n# HELP c_total Counts \\\\ things,\\nsecond line.\n# TYPE c_total counter\n" +
      'c_total{path="/a \\"b\\"\\n",code="200"} 2\n' +
      "# HELP s_seconds A summary.\n# TYPE s_seconds summary\n" +
      's_seconds{quantile="0.5"} NaN\ns_seconds{quantile="0.99"} Nan\ns_seconds_sum 0\ns_seconds_count 0\n' +
      "# HELP g A gauge.\n# TYPE g gauge\ng +Inf\n";
    const families = parsePrometheusText(text, "none_");
    expect(families.get("c_total")?.help).toBe("Counts \\ things,\nsecond line.");
    expect(sampleValue(families, "c_total", { path: '/a "b"\n', code: "200" })).toBe(2);
    expect(sampleValue(families, "h_seconds_bucket", { le: "+Inf" })).toBe(3);
    expect(sampleValue(families, "g")).toBe(Number.POSITIVE_INFINITY);
    expect(families.get("s_seconds")?.type).toBe("summary");
  });

  it.each([
    ["no final line feed", histogram(GOOD_BUCKETS).slice(0, -1)],
    ["a TYPE after samples", "# HELP g G.\ng 1\n# TYPE g gauge\n"],
    ["two TYPE lines", "# HELP g G.\n# TYPE g gauge\n# TYPE g gauge\ng 1\n"],
    ["no HELP", "# TYPE g gauge\ng 1\n"],
    ["a family in two groups", "# HELP a A.\n# TYPE a gauge\na 1\n# HELP b B.\n# TYPE b gauge\nb 1\na{x=\"1\"} 2\n"],
    ["the same series twice", "# HELP g G.\n# TYPE g gauge\ng 1\ng 2\n"],
    ["an invalid label name", '# HELP g G.\n# TYPE g gauge\ng{1x="a"} 1\n'],
    ["a bad escape in a label value", '# HELP g G.\n# TYPE g gauge\ng{x="a\\t"} 1\n'],
    ["a bad escape in HELP", "# HELP g G\\t.\n# TYPE g gauge\ng 1\n"],
    ["a label twice", '# HELP g G.\n# TYPE g gauge\ng{x="a",x="b"} 1\n'],
    ["an unquoted value", "# HELP g G.\n# TYPE g gauge\ng{x=a} 1\n"],
    ["a value that is not a number", "# HELP g G.\n# TYPE g gauge\ng one\n"],
    ["buckets that are not cumulative", histogram('h_seconds_bucket{le="0.1"} 2\nh_seconds_bucket{le="1"} 1\nh_seconds_bucket{le="+Inf"} 3\n')],
    ["buckets out of order", histogram('h_seconds_bucket{le="1"} 1\nh_seconds_bucket{le="0.1"} 2\nh_seconds_bucket{le="+Inf"} 3\n')],
    ["no +Inf bucket", histogram('h_seconds_bucket{le="0.1"} 1\nh_seconds_bucket{le="1"} 3\n')],
    ["+Inf unequal to _count", histogram(GOOD_BUCKETS, "4")],
    ["a negative counter", "# HELP c_total C.\n# TYPE c_total counter\nc_total -1\n"],
    ["a quantile outside [0, 1]", '# HELP s S.\n# TYPE s summary\ns{quantile="2"} 1\ns_sum 1\ns_count 1\n'],
  ])("refuses %s", (_, text) => {
    expect(() => parsePrometheusText(text)).toThrow(MetricsFormatError);
  });

  it.each([
    ["a counter without _total", "# HELP onnx_server_requests C.\n# TYPE onnx_server_requests counter\nonnx_server_requests 1\n"],
    ["_total on a gauge", "# HELP onnx_server_rows_total G.\n# TYPE onnx_server_rows_total gauge\nonnx_server_rows_total 1\n"],
    ["camelCase", "# HELP onnx_server_queueTime_seconds G.\n# TYPE onnx_server_queueTime_seconds gauge\nonnx_server_queueTime_seconds 1\n"],
    ["milliseconds", "# HELP onnx_server_step_milliseconds G.\n# TYPE onnx_server_step_milliseconds gauge\nonnx_server_step_milliseconds 1\n"],
  ])("lints the server's own names: refuses %s", (_, text) => {
    expect(() => parsePrometheusText(text)).toThrow(MetricsFormatError);
  });
});
