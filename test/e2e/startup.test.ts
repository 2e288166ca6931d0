/**
 * Start-up: the port opens before the model is loaded, so a gateway or an
 * orchestrator sees /health (200) and /ready (503 "loading") from the
 * first moment: the real app over a real engine that has read its folder
 * but not started its workers. (That the process listens before it loads,
 * in that order, is checked on its log in shutdown.test.ts.)
 */
import type { AddressInfo } from "node:net";
import pino from "pino";
import { afterAll, describe, expect, it } from "vitest";
import { defaultConfig } from "../../src/config.ts";
import { OnnxEngine } from "../../src/engine/onnx-engine.ts";
import { buildApp } from "../../src/http/app.ts";
import { tinyChat } from "../support/fixtures.ts";
import { postJson } from "../support/live-server.ts";

describe("start-up", () => {
  const closers: Array<() => Promise<unknown>> = [];
  afterAll(async () => {
    for (const close of closers) await close();
  });

  it("before the model is loaded: /health 200, /ready 503 loading, generation 503 with Retry-After, /v1/models 200; then ready", async () => {
    const config = defaultConfig({ modelPath: tinyChat, threads: 1, logLevel: "silent" });
    const engine = OnnxEngine.open({ ...config, logger: pino({ level: "silent" }) });
    const app = buildApp(config, engine, { logger: pino({ level: "silent" }) });
    closers.push(() => app.close(), () => engine.close(0));
    await app.listen({ host: "127.0.0.1", port: 0 });
    const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;

    expect((await fetch(`${url}/health`)).status).toBe(200);
    const ready = await fetch(`${url}/ready`);
    expect(ready.status).toBe(503);
    expect(ready.headers.get("retry-after")).toBe("1");
    expect(((await ready.json()) as { error: { message: string } }).error.message).toBe("The model is loading.");
    const chat = { model: "tiny-chat", messages: [{ role: "user", content: "What is 2 + 3?" }], max_tokens: 4, temperature: 0 };
    const early = await postJson(`${url}/v1/chat/completions`, chat);
    expect(early.status).toBe(503);
    expect(early.headers.get("retry-after")).toBe("1");
    expect(((await early.json()) as { error: { code: string } }).error.code).toBe("service_unavailable");
    expect((await fetch(`${url}/v1/models`)).status).toBe(200);

    await engine.load();
    expect((await fetch(`${url}/ready`)).status).toBe(200);
    const answer = await postJson(`${url}/v1/chat/completions`, chat);
    expect(answer.status).toBe(200);
  });
});
