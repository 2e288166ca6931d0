/**
 * CORS by explicit allowlist, written by hand (a handful of headers). The
 * allowed Origin is echoed only if listed; never "*", never credentials —
 * auth is a bearer header, not a cookie.
 */
import type { FastifyInstance } from "fastify";

const ALLOW_HEADERS = "Authorization, Content-Type, X-Request-Id";
const EXPOSE_HEADERS = "X-Request-Id, Retry-After";

export function registerCors(app: FastifyInstance, origins: string[]): void {
  const allowed = new Set(origins);
  app.addHook("onRequest", async (request, reply) => {
    const origin = request.headers.origin;
    reply.header("vary", "Origin");
    if (origin === undefined || !allowed.has(origin)) return;
    reply.header("access-control-allow-origin", origin);
    reply.header("access-control-expose-headers", EXPOSE_HEADERS);
  });
  // Preflights carry no credentials, so they must be answered before auth.
  app.options("*", async (request, reply) => {
    const origin = request.headers.origin;
    if (origin !== undefined && allowed.has(origin)) {
      reply.header("access-control-allow-methods", "GET, POST, OPTIONS");
      reply.header("access-control-allow-headers", ALLOW_HEADERS);
      reply.header("access-control-max-age", "600");
    }
    return reply.code(204).send();
  });
}
