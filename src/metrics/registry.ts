/**
 * The Prometheus registries behind GET /metrics. Nothing registers on
 * prom-client's global default registry: each engine and each app has its
 * own, so a process that runs several servers (the tests do) never sees two
 * metrics of one name collide. /metrics shows one merged view of the app's
 * request metrics, its engine's metrics and the process metrics.
 */
import { collectDefaultMetrics, Registry } from "prom-client";

/** Every metric of this server starts with it; the rest of the name follows vLLM's where vLLM has one. */
export const METRIC_PREFIX = "onnx_server_";

let processRegistry: Registry | null = null;

/**
 * prom-client's default metrics (CPU, memory, heap, event-loop lag, GC,
 * handles) describe the process, not a server in it, and collecting them
 * starts a GC observer and an event-loop monitor that cannot be stopped. So
 * they are collected once per process, on a registry of their own, which
 * every app's scrape view includes.
 */
export function processMetricsRegistry(): Registry {
  if (processRegistry === null) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry });
  }
  return processRegistry;
}

/**
 * One registry holding the metrics of `parts` (the metric objects are shared,
 * so it reads their live values). Built once per app; Registry.merge throws
 * if two parts name the same metric.
 */
export function scrapeRegistry(parts: Registry[]): Registry {
  return Registry.merge([...parts, processMetricsRegistry()]);
}
