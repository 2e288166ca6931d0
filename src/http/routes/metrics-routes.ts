/**
 * GET /metrics: the engine's load, step time and release latency in the
 * Prometheus text format. Behind the API key when keys are configured, like
 * /v1, because it reveals how busy the server is; Prometheus scrapers send
 * the key as a bearer token.
 */
import type { FastifyInstance } from "fastify";
import type { Engine } from "../../engine/engine.ts";
import { PROMETHEUS_CONTENT_TYPE, renderPrometheus, type MetricFamily } from "../../metrics/prometheus.ts";
import type { ApiKeyCheck } from "../auth.ts";

const PREFIX = "onnx_server_";

export function registerMetricsRoutes(app: FastifyInstance, engine: Engine, auth: ApiKeyCheck): void {
  app.get("/metrics", async (request, reply) => {
    auth.authenticate(request.headers.authorization);
    const m = engine.metrics();
    const families: MetricFamily[] = [
      { name: `${PREFIX}queued_rows`, help: "Rows (choices) waiting for a batch slot.", type: "gauge", value: m.queued },
      { name: `${PREFIX}running_rows`, help: "Rows held by the model workers.", type: "gauge", value: m.running },
      {
        name: `${PREFIX}generated_tokens_total`,
        help: "Tokens sampled by the model workers.",
        type: "counter",
        value: m.generatedTokens,
      },
      { name: `${PREFIX}step_seconds`, help: "Duration of one batched worker step.", type: "summary", summary: m.stepSeconds },
      { name: `${PREFIX}step_rows`, help: "Rows that produced a token in one step.", type: "summary", summary: m.stepRows },
      {
        name: `${PREFIX}release_seconds`,
        help: "From a release (cancel, disconnect, stop string) to the row leaving its worker's batch.",
        type: "summary",
        summary: m.releaseSeconds,
      },
      {
        name: `${PREFIX}release_steps`,
        help: "The release latency in steps of the step the release waited on.",
        type: "summary",
        summary: m.releaseSteps,
      },
    ];
    return reply.type(PROMETHEUS_CONTENT_TYPE).send(renderPrometheus(families));
  });
}
