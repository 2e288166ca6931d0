/** Public probes: /health is liveness, /ready is "a real forward pass can run now". */
import type { FastifyInstance } from "fastify";
import type { Engine } from "../../engine/engine.ts";
import { unavailable } from "../../errors.ts";

export function registerHealthRoutes(app: FastifyInstance, engine: Engine): void {
  app.get("/health", async () => ({ status: "ok" }));
  app.get("/ready", async () => {
    const health = engine.health();
    if (health.shuttingDown) throw unavailable("The server is shutting down.");
    if (health.loading) throw unavailable("The model is loading.", 1);
    if (!health.ready) throw unavailable("No worker is alive.", 1);
    return { status: "ready", ...health };
  });
}
