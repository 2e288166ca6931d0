/**
 * A real server for end-to-end tests: the real Fastify app on a loopback
 * port over a real OnnxEngine (worker thread, ONNX Runtime).
 */
import type { AddressInfo } from "node:net";
import type { FastifyBaseLogger, FastifyInstance } from "fastify";
import pino from "pino";
import { parseConfig, type ServerConfig } from "../../src/config.ts";
import type { OnnxEngine, OnnxEngineOptions } from "../../src/engine/onnx-engine.ts";
import { buildApp } from "../../src/http/app.ts";
import { startEngine } from "./engine.ts";

export interface LiveServer {
  app: FastifyInstance;
  engine: OnnxEngine;
  url: string;
  model: string;
  close(): Promise<void>;
}

/** `logger`: the app's (silent by default); the engine's stays silent. */
export async function startLiveServer(
  modelPath: string,
  engineOptions: Partial<OnnxEngineOptions> = {},
  config: Partial<ServerConfig> = {},
  logger: FastifyBaseLogger = pino({ level: "silent" }),
): Promise<LiveServer> {
  const engine = await startEngine(modelPath, engineOptions);
  const parsed = parseConfig([], {});
  if (parsed.kind !== "config") throw new Error("unexpected help");
  const app = buildApp({ ...parsed.config, logLevel: "silent", ...config }, engine, { logger });
  await app.listen({ host: "127.0.0.1", port: 0 });
  const { port } = app.server.address() as AddressInfo;
  return {
    app,
    engine,
    url: `http://127.0.0.1:${port}`,
    model: engine.model.id,
    async close() {
      await engine.close(0);
      await app.close();
    },
  };
}

export interface SseEvent {
  raw: string;
  json: Record<string, unknown> | null;
}

/**
 * Reads an SSE response body frame by frame; `onEvent` may act mid-stream
 * (cancel, destroy). Comment frames (the server's `: keep-alive`
 * heartbeat) are skipped, as every SSE client does; `onComment` sees them.
 */
export async function readSse(
  res: Response,
  onEvent: (e: SseEvent, index: number) => void | Promise<void> = () => undefined,
  onComment: (comment: string) => void = () => undefined,
): Promise<SseEvent[]> {
  const events: SseEvent[] = [];
  const decoder = new TextDecoder();
  let buffer = "";
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    buffer += decoder.decode(chunk, { stream: true });
    let cut: number;
    while ((cut = buffer.indexOf("\n\n")) !== -1) {
      const frame = buffer.slice(0, cut);
      buffer = buffer.slice(cut + 2);
      if (frame.startsWith(":")) {
        onComment(frame);
        continue;
      }
      if (!frame.startsWith("data: ")) throw new Error(`bad SSE frame ${JSON.stringify(frame)}`);
      const raw = frame.slice(6);
      const event = { raw, json: raw === "[DONE]" ? null : (JSON.parse(raw) as Record<string, unknown>) };
      events.push(event);
      await onEvent(event, events.length - 1);
    }
  }
  if (buffer.length > 0) throw new Error(`trailing bytes after the last SSE frame: ${JSON.stringify(buffer)}`);
  return events;
}

export function postJson(url: string, body: unknown, headers: Record<string, string> = {}, signal?: AbortSignal): Promise<Response> {
  return fetch(url, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body), signal });
}

export { whenReleased } from "./engine.ts";

/**
 * Resolves once `condition()` holds, checked again after every timer turn:
 * for engine state that has no event (health() counts). It waits on the
 * state, never for a fixed time; the test's own timeout bounds it.
 */
export async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 1));
}
