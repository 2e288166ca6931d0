/** docs/RELIABILITY.md "Access": keys, CORS allowlist, logs. */
import { Writable } from "node:stream";
import pino from "pino";
import { describe, expect, it } from "vitest";
import { buildApp } from "../../src/http/app.ts";
import { FakeEngine } from "./fake-engine.ts";
import { chatBody, makeApp, testConfig } from "./helpers.ts";

function appWithLogs(overrides: Parameters<typeof testConfig>[0] = {}) {
  const lines: Array<Record<string, unknown>> = [];
  const raw: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      for (const line of String(chunk).split("\n").filter(Boolean)) {
        raw.push(line);
        lines.push(JSON.parse(line) as Record<string, unknown>);
      }
      done();
    },
  });
  const engine = new FakeEngine();
  const app = buildApp(testConfig(overrides), engine, { logger: pino({ level: "info" }, sink) });
  return { app, engine, lines, raw };
}

describe("API keys", () => {
  it("the owner passed to start and cancel is a key fingerprint, the same for both, never the key", async () => {
    const { app, engine } = makeApp({ apiKeys: ["key-a", "key-b"] });
    await app.inject({ method: "POST", url: "/v1/chat/completions", payload: chatBody(), headers: { authorization: "Bearer key-a" } });
    await app.inject({ method: "POST", url: "/v1/chat/completions/x/cancel", headers: { authorization: "bearer key-a" } });
    await app.inject({ method: "POST", url: "/v1/chat/completions/x/cancel", headers: { authorization: "Bearer key-b" } });
    const owner = engine.starts[0].options.owner;
    expect(owner).toMatch(/^key-[0-9a-f]{16}$/);
    expect(owner).not.toContain("key-a");
    expect(engine.cancels.map((c) => c.owner)).toEqual([owner, expect.not.stringMatching(owner as string)]);
    await app.close();
  });

  it("without keys the owner is undefined", async () => {
    const { app, engine } = makeApp();
    await app.inject({ method: "POST", url: "/v1/chat/completions", payload: chatBody() });
    expect(engine.starts[0].options.owner).toBeUndefined();
    await app.close();
  });
});

describe("CORS", () => {
  it("echoes only allowlisted origins, never *, never credentials", async () => {
    const { app } = makeApp({ corsOrigins: ["https://app.example"] });
    const allowed = await app.inject({ method: "GET", url: "/v1/models", headers: { origin: "https://app.example" } });
    expect(allowed.headers["access-control-allow-origin"]).toBe("https://app.example");
    expect(allowed.headers["access-control-allow-credentials"]).toBeUndefined();
    expect(allowed.headers["access-control-expose-headers"]).toContain("X-Request-Id");
    expect(allowed.headers.vary).toContain("Origin");
    const other = await app.inject({ method: "GET", url: "/v1/models", headers: { origin: "https://evil.example" } });
    expect(other.headers["access-control-allow-origin"]).toBeUndefined();
    await app.close();
  });

  it("preflight is answered without auth, with allow headers only for listed origins", async () => {
    const { app } = makeApp({ corsOrigins: ["https://app.example"], apiKeys: ["k"] });
    const preflight = await app.inject({
      method: "OPTIONS",
      url: "/v1/chat/completions",
      headers: { origin: "https://app.example", "access-control-request-method": "POST" },
    });
    expect(preflight.statusCode).toBe(204);
    expect(preflight.headers["access-control-allow-origin"]).toBe("https://app.example");
    expect(preflight.headers["access-control-allow-headers"]).toContain("Authorization");
    const stranger = await app.inject({
      method: "OPTIONS",
      url: "/v1/chat/completions",
      headers: { origin: "https://evil.example", "access-control-request-method": "POST" },
    });
    expect(stranger.headers["access-control-allow-origin"]).toBeUndefined();
    expect(stranger.headers["access-control-allow-methods"]).toBeUndefined();
    await app.close();
  });

  it("no allowlist: no CORS headers at all", async () => {
    const { app } = makeApp();
    const res = await app.inject({ method: "GET", url: "/health", headers: { origin: "https://app.example" } });
    expect(res.headers["access-control-allow-origin"]).toBeUndefined();
    await app.close();
  });

  it("streams carry the CORS headers too", async () => {
    const { app } = makeApp({ corsOrigins: ["https://app.example"] });
    const res = await app.inject({
      method: "POST",
      url: "/v1/chat/completions",
      payload: chatBody({ stream: true }),
      headers: { origin: "https://app.example" },
    });
    expect(res.headers["content-type"]).toMatch(/^text\/event-stream/);
    expect(res.headers["access-control-allow-origin"]).toBe("https://app.example");
    await app.close();
  });
});

describe("logs", () => {
  it("every request line carries the request id; the client's id is used when valid", async () => {
    const { app, lines } = appWithLogs();
    await app.inject({ method: "POST", url: "/v1/chat/completions", payload: chatBody({ user: "u1" }), headers: { "x-request-id": "client-1" } });
    const requestLines = lines.filter((l) => l.req !== undefined || l.res !== undefined || l.completionId !== undefined);
    expect(requestLines.length).toBeGreaterThan(1);
    for (const line of requestLines) expect(line.reqId).toBe("client-1");
    expect(lines.some((l) => l.user === "u1" && typeof l.completionId === "string")).toBe(true);
    await app.close();
  });

  it("the finished line carries safety_identifier and metadata when sent, and never the messages", async () => {
    const { app, lines, raw } = appWithLogs();
    const body = chatBody({ safety_identifier: "hashed-7", metadata: { team: "search" }, messages: [{ role: "user", content: "secret-prompt-q9" }] });
    await app.inject({ method: "POST", url: "/v1/chat/completions", payload: body });
    await app.inject({ method: "POST", url: "/v1/chat/completions", payload: chatBody() });
    const finished = lines.filter((l) => typeof l.completionId === "string" && l.durationMs !== undefined);
    expect(finished).toHaveLength(2);
    expect(finished[0]).toMatchObject({ safetyIdentifier: "hashed-7", metadata: { team: "search" } });
    expect(finished[1]).not.toHaveProperty("safetyIdentifier");
    expect(finished[1]).not.toHaveProperty("metadata");
    expect(raw.join("\n")).not.toContain("secret-prompt-q9");
    await app.close();
  });

  it("never logs API keys or the Authorization header", async () => {
    const { app, raw } = appWithLogs({ apiKeys: ["super-secret-key"] });
    await app.inject({ method: "GET", url: "/v1/models", headers: { authorization: "Bearer super-secret-key" } });
    await app.inject({ method: "GET", url: "/v1/models", headers: { authorization: "Bearer wrong-secret" } });
    const all = raw.join("\n");
    expect(all).not.toContain("super-secret-key");
    expect(all).not.toContain("wrong-secret");
    await app.close();
  });

  it("user input with CR/LF stays inside one escaped JSON line", async () => {
    const { app, raw } = appWithLogs();
    await app.inject({ method: "POST", url: "/v1/chat/completions", payload: chatBody({ user: 'evil\r\n{"level":60,"msg":"forged"}' }) });
    expect(raw.some((line) => line.startsWith('{"level":60,"msg":"forged"'))).toBe(false);
    expect(raw.some((line) => line.includes("\\r\\n"))).toBe(true);
    await app.close();
  });

  it("a 500 is logged with the request id and the real error; the client sees neither", async () => {
    const { app, engine, lines } = appWithLogs();
    engine.startError = new Error("kaboom internals");
    const res = await app.inject({ method: "POST", url: "/v1/chat/completions", payload: chatBody(), headers: { "x-request-id": "trace-500" } });
    expect(res.statusCode).toBe(500);
    expect(res.body).not.toContain("kaboom");
    const logged = lines.find((l) => (l.err as { message?: string } | undefined)?.message === "kaboom internals");
    expect(logged?.reqId).toBe("trace-500");
    await app.close();
  });
});
