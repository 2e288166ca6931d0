/**
 * Draining on shutdown in a way a gateway can follow. app.close() (called
 * by main.ts as soon as SIGTERM arrives) closes the listening socket, so
 * new connections are refused, which every gateway retries elsewhere on
 * its own, and Node closes the keep-alive connections that are idle.
 * What is left is handled here:
 * - a request that still arrives on a kept-alive connection gets 503 with
 *   `Connection: close` and `Retry-After` (nginx's `proxy_next_upstream
 *   http_503 non_idempotent` resends it to another replica: nothing was
 *   generated);
 * - a connection whose response ends during the drain is closed at once,
 *   instead of idling until the keep-alive timeout and keeping the process
 *   up for it.
 * In-flight streams are left alone: the engine lets them finish within the
 * grace period, then cancels them.
 */
import type { FastifyInstance } from "fastify";
import { unavailable } from "../errors.ts";

/**
 * Once the engine has ended every request on shutdown, how long their
 * responses may take to be written out before the connections of clients
 * that do not read are cut.
 */
export const FINAL_WRITES_MS = 2000;

export function registerDrain(app: FastifyInstance): void {
  let draining = false;
  app.addHook("preClose", async () => {
    draining = true;
  });
  app.addHook("onRequest", async (_request, reply) => {
    if (draining) {
      reply.header("connection", "close");
      throw unavailable("The server is shutting down.", 1);
    }
    reply.raw.once("finish", () => {
      // Node marks the connection idle only after 'finish'; close it on the next turn.
      if (draining) setImmediate(() => app.server.closeIdleConnections());
    });
  });
}
