/**
 * Public probes: /health is liveness, /ready is "a real forward pass can
 * run now" (with the cancel relay's state when there is one).
 */
import type { FastifyInstance } from "fastify";
import type { CancelRelay } from "../../cluster/cancel-relay.ts";
import type { Engine } from "../../engine/engine.ts";
import { unavailable } from "../../errors.ts";

export function registerHealthRoutes(app: FastifyInstance, engine: Engine, relay: CancelRelay): void {
  app.get("/health", async () => ({ status: "ok" }));
  app.get("/ready", async () => {
    const health = engine.health();
    if (health.shuttingDown) throw unavailable("The server is shutting down.");
    if (health.loading) throw unavailable("The model is loading.", 1);
    if (!health.ready) throw unavailable("No worker is alive.", 1);
    // A Redis that cannot be reached degrades only cross-replica cancels: reported, never a reason to take the replica out.
    const cancelRelay = relay.status();
    return { status: "ready", ...health, ...(cancelRelay.state === "off" ? {} : { cancelRelay }) };
  });
}
