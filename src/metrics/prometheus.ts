/**
 * Renders metrics in the Prometheus text exposition format (version 0.0.4),
 * which every scraper and most gateways read.
 */
import type { SummarySnapshot } from "./summary.ts";

export type MetricFamily =
  | { name: string; help: string; type: "counter" | "gauge"; value: number }
  | { name: string; help: string; type: "summary"; summary: SummarySnapshot };

export const PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

export function renderPrometheus(families: MetricFamily[]): string {
  const lines: string[] = [];
  for (const family of families) {
    lines.push(`# HELP ${family.name} ${family.help}`, `# TYPE ${family.name} ${family.type}`);
    if (family.type === "summary") {
      for (const [q, value] of family.summary.quantiles) lines.push(`${family.name}{quantile="${q}"} ${number(value)}`);
      lines.push(`${family.name}_sum ${number(family.summary.sum)}`, `${family.name}_count ${family.summary.count}`);
    } else {
      lines.push(`${family.name} ${number(family.value)}`);
    }
  }
  return `${lines.join("\n")}\n`;
}

function number(value: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (value === Number.POSITIVE_INFINITY) return "+Inf";
  if (value === Number.NEGATIVE_INFINITY) return "-Inf";
  return String(value);
}
