/**
 * GET /metrics: the request, engine and process metrics in the Prometheus
 * text format (docs/API.md lists them). Behind the API key when keys are
 * configured, like /v1, because it reveals how busy the server is;
 * Prometheus scrapers send the key as a bearer token.
 */
import type { FastifyInstance } from "fastify";
import type { Registry } from "prom-client";
import type { ApiKeyCheck } from "../auth.ts";

export function registerMetricsRoutes(app: FastifyInstance, registry: Registry, auth: ApiKeyCheck): void {
  app.get("/metrics", async (request, reply) => {
    auth.authenticate(request.headers.authorization);
    return reply.type(registry.contentType).send(await registry.metrics());
  });
}
