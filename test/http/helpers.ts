/** Shared setup for HTTP tests: a config with test defaults and an app over a FakeEngine. */
import type { FastifyInstance } from "fastify";
import pino from "pino";
import { parseConfig, type ServerConfig } from "../../src/config.ts";
import { buildApp } from "../../src/http/app.ts";
import { FakeEngine } from "./fake-engine.ts";

export function testConfig(overrides: Partial<ServerConfig> = {}): ServerConfig {
  const parsed = parseConfig([], {});
  if (parsed.kind !== "config") throw new Error("unexpected help");
  return { ...parsed.config, logLevel: "silent", ...overrides };
}

export function makeApp(overrides: Partial<ServerConfig> = {}): { app: FastifyInstance; engine: FakeEngine } {
  const engine = new FakeEngine();
  const app = buildApp(testConfig(overrides), engine, { logger: pino({ level: "silent" }) });
  return { app, engine };
}

export const chatBody = (extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  model: "tiny-chat",
  messages: [{ role: "user", content: "Hi" }],
  ...extra,
});

export const completionBody = (extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  model: "tiny-chat",
  prompt: "Once upon",
  ...extra,
});

/** Splits an SSE body into its data payloads. */
export function sseData(body: string): string[] {
  if (!body.endsWith("\n\n")) throw new Error(`SSE body does not end with a blank line: ${JSON.stringify(body.slice(-20))}`);
  return body
    .slice(0, -2)
    .split("\n\n")
    .map((frame) => {
      if (!frame.startsWith("data: ")) throw new Error(`bad frame ${JSON.stringify(frame)}`);
      return frame.slice("data: ".length);
    });
}
