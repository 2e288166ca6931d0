/**
 * deploy/grafana-dashboard.json against the metrics the server defines: a
 * renamed metric must not leave the dashboard querying nothing. The
 * families come from the real registries (the engine's over a scheduler
 * without workers, the app's request metrics, the process metrics).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { EngineMetrics } from "../../src/engine/engine-metrics.ts";
import { Scheduler } from "../../src/engine/scheduler.ts";
import { scrapeRegistry } from "../../src/metrics/registry.ts";
import { RequestMetrics } from "../../src/metrics/request-metrics.ts";
import { repoRoot } from "../support/fixtures.ts";
import { parsePrometheusText } from "../support/prometheus-text.ts";

interface Panel {
  type: string;
  title: string;
  targets?: Array<{ expr: string }>;
}

const dashboard = JSON.parse(readFileSync(join(repoRoot, "deploy/grafana-dashboard.json"), "utf8")) as { panels: Panel[]; uid: string };

describe("deploy/grafana-dashboard.json", () => {
  it("queries only metrics the server exposes, histograms through their buckets and counters through rate or increase", async () => {
    const scheduler = new Scheduler({ maxBatchSize: 4, maxTokensInFlight: 1000, eosIds: [2] });
    const engine = new EngineMetrics({ scheduler, maxBatchSize: 4, kvTokensPerWorker: 1000, readyWorkers: () => 0 });
    const registry = scrapeRegistry([new RequestMetrics(512).registry, engine.registry]);
    const families = parsePrometheusText(await registry.metrics());

    const exprs = dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p.title, expr: t.expr })));
    expect(exprs.length).toBeGreaterThan(20);
    const used = new Set<string>();
    for (const { panel, expr } of exprs) {
      for (const [name] of expr.matchAll(/\b(?:onnx_server|process|nodejs)_[a-z0-9_]+/g)) {
        const base = name.endsWith("_bucket") ? name.slice(0, -"_bucket".length) : name;
        const family = families.get(base);
        expect(family, `${panel}: ${name}`).toBeDefined();
        used.add(base);
        if (name.endsWith("_bucket")) {
          expect(family!.type, `${panel}: ${name}`).toBe("histogram");
          expect(expr, panel).toMatch(new RegExp(`histogram_quantile\\([^,]+, sum by \\(le\\) \\(rate\\(${name}\\{`));
        } else {
          expect(family!.type, `${panel}: ${name}`).not.toBe("histogram");
        }
        if (family!.type === "counter") expect(expr, panel).toMatch(new RegExp(`(rate|increase)\\(${name}\\{`));
      }
    }
    // The panels: latency quantiles, finish reasons, queue, rows, KV, cancels, process CPU and memory.
    for (const name of [
      "onnx_server_time_to_first_token_seconds",
      "onnx_server_inter_token_latency_seconds",
      "onnx_server_e2e_request_latency_seconds",
      "onnx_server_request_queue_time_seconds",
      "onnx_server_requests_total",
      "onnx_server_num_requests_running",
      "onnx_server_num_requests_waiting",
      "onnx_server_kv_tokens_in_use",
      "onnx_server_cancels_total",
      "process_cpu_seconds_total",
      "process_resident_memory_bytes",
    ]) {
      expect(used, name).toContain(name);
    }
  });
});
