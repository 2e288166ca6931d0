/**
 * GET / (the playground page) and GET /playground/<file> (its scripts and
 * styles), registered unless --no-playground. Public like /health: the
 * files hold nothing secret, and the page asks for an API key itself when
 * /v1/models answers 401.
 */
import type { FastifyInstance } from "fastify";
import { loadPlaygroundAssets, type PlaygroundAsset } from "../playground-assets.ts";

/**
 * The page loads only its own files and talks only to its own origin; no
 * inline script or style, no <base>, no form posts, never inside a frame.
 * img-src allows data: for the page's empty favicon (no /favicon.ico 404).
 */
export const PLAYGROUND_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "connect-src 'self'",
  "img-src 'self' data:",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

const SECURITY_HEADERS = {
  "content-security-policy": PLAYGROUND_CSP,
  "x-content-type-options": "nosniff",
  // Revalidate every time: after an upgrade the browser must not mix old and new modules.
  "cache-control": "no-cache",
};

export function registerPlaygroundRoutes(app: FastifyInstance, assets: PlaygroundAsset[] = loadPlaygroundAssets()): void {
  for (const asset of assets) {
    app.get(asset.route, async (_request, reply) => reply.headers(SECURITY_HEADERS).type(asset.contentType).send(asset.body));
  }
}
