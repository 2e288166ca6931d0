/** Every row of docs/API.md's error table, plus docs/RELIABILITY.md "Bodies". */
import { afterEach, describe, expect, it } from "vitest";
import { ApiError, contextLengthExceeded, queueFull, requestIdInUse } from "../../src/errors.ts";
import { chatBody, completionBody, makeApp } from "./helpers.ts";

const apps: Array<{ close(): Promise<unknown> }> = [];
function setup(overrides: Parameters<typeof makeApp>[0] = {}) {
  const made = makeApp(overrides);
  apps.push(made.app);
  return made;
}
afterEach(async () => {
  await Promise.all(apps.splice(0).map((a) => a.close()));
});

function expectEnvelope(body: string, type: string): { message: string; type: string; param: string | null; code: string | null } {
  const parsed = JSON.parse(body) as { error: { message: string; type: string; param: string | null; code: string | null } };
  expect(Object.keys(parsed)).toEqual(["error"]);
  expect(Object.keys(parsed.error).sort()).toEqual(["code", "message", "param", "type"]);
  expect(parsed.error.type).toBe(type);
  expect(typeof parsed.error.message).toBe("string");
  return parsed.error;
}

describe("400 invalid / unsupported fields", () => {
  it("invalid field names its param", async () => {
    const { app } = setup();
    const res = await app.inject({ method: "POST", url: "/v1/chat/completions", payload: chatBody({ temperature: 5 }) });
    expect(res.statusCode).toBe(400);
    expect(expectEnvelope(res.body, "invalid_request_error").param).toBe("temperature");
  });

  it("unsupported field names its param and says it is not supported", async () => {
    const { app } = setup();
    const res = await app.inject({
      method: "POST",
      url: "/v1/chat/completions",
      payload: chatBody({ audio: { voice: "alloy", format: "mp3" } }),
    });
    expect(res.statusCode).toBe(400);
    const error = expectEnvelope(res.body, "invalid_request_error");
    expect(error.param).toBe("audio");
    expect(error.message).toMatch(/not supported/);
  });

  it("unknown field names its param", async () => {
    const { app } = setup();
    const res = await app.inject({ method: "POST", url: "/v1/completions", payload: completionBody({ frobnicate: 1 }) });
    expect(res.statusCode).toBe(400);
    expect(expectEnvelope(res.body, "invalid_request_error").param).toBe("frobnicate");
  });

  it("empty messages", async () => {
    const { app, engine } = setup();
    const res = await app.inject({ method: "POST", url: "/v1/chat/completions", payload: chatBody({ messages: [] }) });
    expect(res.statusCode).toBe(400);
    expect(expectEnvelope(res.body, "invalid_request_error").param).toBe("messages");
    expect(engine.starts).toHaveLength(0);
  });
});

describe("400 context_length_exceeded before any SSE byte", () => {
  for (const stream of [false, true]) {
    it(`stream=${stream}`, async () => {
      const { app, engine } = setup();
      engine.startError = contextLengthExceeded(3000, 100, 2048, "messages");
      const res = await app.inject({ method: "POST", url: "/v1/chat/completions", payload: chatBody({ stream }) });
      expect(res.statusCode).toBe(400);
      expect(res.headers["content-type"]).toMatch(/^application\/json/);
      const error = expectEnvelope(res.body, "invalid_request_error");
      expect(error.code).toBe("context_length_exceeded");
      expect(error.message).toContain("3000");
      expect(error.message).toContain("2048");
    });
  }
});

describe("400 context_length_exceeded for a token-id prompt longer than the context", () => {
  it("a 5M-id prompt (10 MB of body) is refused by the route, never reaching the engine", async () => {
    const { app, engine } = setup();
    const payload = JSON.stringify({ model: "tiny-chat", prompt: new Array(5_000_000).fill(7), stream: true });
    const res = await app.inject({ method: "POST", url: "/v1/completions", payload, headers: { "content-type": "application/json" } });
    expect(res.statusCode).toBe(400);
    const error = expectEnvelope(res.body, "invalid_request_error");
    expect(error.code).toBe("context_length_exceeded");
    expect(error.param).toBe("prompt");
    expect(error.message).toContain("5000000");
    expect(engine.starts).toHaveLength(0);
  });
});

describe("401 with API keys", () => {
  const routes: Array<[string, string, Record<string, unknown> | undefined]> = [
    ["POST", "/v1/chat/completions", chatBody()],
    ["POST", "/v1/completions", completionBody()],
    ["POST", "/v1/chat/completions/chatcmpl-x/cancel", undefined],
    ["POST", "/v1/completions/cmpl-x/cancel", undefined],
    ["GET", "/v1/models", undefined],
    ["GET", "/v1/models/tiny-chat", undefined],
  ];
  for (const [method, url, payload] of routes) {
    it(`${method} ${url}: missing and wrong key -> 401, right key passes`, async () => {
      const { app } = setup({ apiKeys: ["sekrit", "other"] });
      for (const authorization of [undefined, "Bearer wrong", "sekrit", "Basic c2Vrcml0"]) {
        const headers = authorization === undefined ? {} : { authorization };
        const res = await app.inject({ method: method as "GET" | "POST", url, payload, headers });
        expect(res.statusCode, String(authorization)).toBe(401);
        const error = expectEnvelope(res.body, "authentication_error");
        expect(error.code).toBe("invalid_api_key");
        expect(res.body).not.toContain("sekrit");
      }
      const ok = await app.inject({ method: method as "GET" | "POST", url, payload, headers: { authorization: "Bearer other" } });
      expect(ok.statusCode).not.toBe(401);
    });
  }

  it("/health and /ready stay public", async () => {
    const { app } = setup({ apiKeys: ["sekrit"] });
    expect((await app.inject({ method: "GET", url: "/health" })).statusCode).toBe(200);
    expect((await app.inject({ method: "GET", url: "/ready" })).statusCode).toBe(200);
  });

  it("401 comes before the body is parsed (no 413 or 400 leaks to strangers)", async () => {
    const { app } = setup({ apiKeys: ["sekrit"], maxBodyBytes: 1024 });
    const res = await app.inject({
      method: "POST",
      url: "/v1/chat/completions",
      payload: JSON.stringify({ x: "y".repeat(5000) }),
      headers: { "content-type": "application/json" },
    });
    expect(res.statusCode).toBe(401);
  });
});

describe("404", () => {
  it("unknown model -> model_not_found", async () => {
    const { app, engine } = setup();
    const res = await app.inject({ method: "POST", url: "/v1/chat/completions", payload: chatBody({ model: "gpt-4" }) });
    expect(res.statusCode).toBe(404);
    const error = expectEnvelope(res.body, "invalid_request_error");
    expect(error.code).toBe("model_not_found");
    expect(error.param).toBe("model");
    expect(engine.starts).toHaveLength(0);
  });

  it("model is required", async () => {
    const { app } = setup();
    const { model: _model, ...body } = chatBody();
    const res = await app.inject({ method: "POST", url: "/v1/chat/completions", payload: body });
    expect(res.statusCode).toBe(400);
    expect(expectEnvelope(res.body, "invalid_request_error").param).toBe("model");
  });

  it("GET /v1/models/{unknown} -> model_not_found", async () => {
    const { app } = setup();
    const res = await app.inject({ method: "GET", url: "/v1/models/nope" });
    expect(res.statusCode).toBe(404);
    expect(expectEnvelope(res.body, "invalid_request_error").code).toBe("model_not_found");
  });

  it("unknown completion id on cancel -> not_found", async () => {
    const { app } = setup();
    for (const url of ["/v1/chat/completions/chatcmpl-nope/cancel", "/v1/completions/cmpl-nope/cancel"]) {
      const res = await app.inject({ method: "POST", url });
      expect(res.statusCode).toBe(404);
      expect(expectEnvelope(res.body, "invalid_request_error").code).toBe("not_found");
    }
  });

  it("a 128-character client id reaches engine.cancel (route param limit)", async () => {
    const { app, engine } = setup();
    const id = "a".repeat(128);
    expect((await app.inject({ method: "POST", url: `/v1/chat/completions/${id}/cancel` })).statusCode).toBe(404);
    expect(engine.cancels[0]?.id).toBe(id);
  });

  it("unknown route -> 404 envelope", async () => {
    const { app } = setup();
    const res = await app.inject({ method: "GET", url: "/v2/whatever?x=%0d%0a" });
    expect(res.statusCode).toBe(404);
    expectEnvelope(res.body, "invalid_request_error");
  });

  it("cancel of an id longer than any handle (257 characters) -> 404 not_found envelope, never reaching the engine", async () => {
    const { app, engine } = setup();
    const res = await app.inject({ method: "POST", url: `/v1/chat/completions/${"x".repeat(257)}/cancel`, headers: { "x-request-id": "gw-1" } });
    expect(res.statusCode).toBe(404);
    expectEnvelope(res.body, "invalid_request_error");
    expect(JSON.parse(res.body).error.code).toBe("not_found");
    expect(res.headers["x-request-id"]).toBe("gw-1");
    expect(engine.cancels).toHaveLength(0);
  });

  it("a URL whose percent-encoding does not decode -> 400 invalid_url envelope", async () => {
    const { app } = setup();
    const res = await app.inject({ method: "POST", url: "/v1/chat/completions/%zz/cancel" });
    expect(res.statusCode).toBe(400);
    expectEnvelope(res.body, "invalid_request_error");
    expect(JSON.parse(res.body).error.code).toBe("invalid_url");
  });
});

it("400 request_id_in_use (never 409, which the SDKs retry) when the client X-Request-Id is in use", async () => {
  const { app, engine } = setup();
  engine.startError = requestIdInUse("abc");
  const res = await app.inject({
    method: "POST",
    url: "/v1/chat/completions",
    payload: chatBody(),
    headers: { "x-request-id": "abc" },
  });
  expect(res.statusCode).toBe(400);
  expectEnvelope(res.body, "invalid_request_error");
  expect(JSON.parse(res.body).error).toMatchObject({ param: "X-Request-Id", code: "request_id_in_use" });
  expect(res.headers["retry-after"]).toBeUndefined();
});

it("413 when the body is over the limit", async () => {
  const { app, engine } = setup({ maxBodyBytes: 2048 });
  const res = await app.inject({
    method: "POST",
    url: "/v1/chat/completions",
    payload: chatBody({ messages: [{ role: "user", content: "x".repeat(4096) }] }),
  });
  expect(res.statusCode).toBe(413);
  expectEnvelope(res.body, "invalid_request_error");
  expect(engine.starts).toHaveLength(0);
});

it("415 when the body is not JSON", async () => {
  const { app } = setup();
  for (const contentType of ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"]) {
    const res = await app.inject({
      method: "POST",
      url: "/v1/chat/completions",
      payload: "model=tiny-chat",
      headers: { "content-type": contentType },
    });
    expect(res.statusCode, contentType).toBe(415);
    expectEnvelope(res.body, "invalid_request_error");
  }
});

it("429 with Retry-After when the queue is full", async () => {
  const { app, engine } = setup();
  engine.startError = queueFull(2);
  for (const stream of [false, true]) {
    const res = await app.inject({ method: "POST", url: "/v1/chat/completions", payload: chatBody({ stream }) });
    expect(res.statusCode).toBe(429);
    expect(res.headers["retry-after"]).toBe("2");
    expectEnvelope(res.body, "rate_limit_error");
  }
});

describe("503", () => {
  it("/ready while loading, with no worker alive, and while shutting down; 200 when ready", async () => {
    const { app, engine } = setup();
    expect((await app.inject({ method: "GET", url: "/ready" })).statusCode).toBe(200);
    engine.healthState = { ...engine.healthState, ready: false, loading: true, workersAlive: 0 };
    const loading = await app.inject({ method: "GET", url: "/ready" });
    expect(loading.statusCode).toBe(503);
    expect(loading.headers["retry-after"]).toBe("1");
    expectEnvelope(loading.body, "server_error");
    expect(JSON.parse(loading.body).error.message).toBe("The model is loading.");
    engine.healthState = { ...engine.healthState, ready: false, loading: false, workersAlive: 0 };
    const noWorker = await app.inject({ method: "GET", url: "/ready" });
    expect(noWorker.statusCode).toBe(503);
    expect(JSON.parse(noWorker.body).error.message).toBe("No worker is alive.");
    engine.healthState = { ...engine.healthState, ready: true, workersAlive: 1, shuttingDown: true };
    expect((await app.inject({ method: "GET", url: "/ready" })).statusCode).toBe(503);
    expect((await app.inject({ method: "GET", url: "/health" })).statusCode).toBe(200);
  });

  it("generation while shutting down (a gateway may resend it elsewhere)", async () => {
    const { app, engine } = setup();
    engine.healthState = { ...engine.healthState, shuttingDown: true };
    const res = await app.inject({ method: "POST", url: "/v1/chat/completions", payload: chatBody() });
    expect(res.statusCode).toBe(503);
    expect(res.headers["retry-after"]).toBe("1");
    expectEnvelope(res.body, "server_error");
    expect(engine.starts).toHaveLength(0);
  });

  it("engine refusing with 503 (not ready)", async () => {
    const { app, engine } = setup();
    engine.startError = new ApiError(503, "server_error", "The model is loading.", { retryAfter: 1 });
    const res = await app.inject({ method: "POST", url: "/v1/completions", payload: completionBody() });
    expect(res.statusCode).toBe(503);
    expect(res.headers["retry-after"]).toBe("1");
  });
});

it("500 hides the real message", async () => {
  const { app, engine } = setup();
  engine.startError = new TypeError("secret internals: cannot read properties of undefined");
  for (const stream of [false, true]) {
    const res = await app.inject({ method: "POST", url: "/v1/chat/completions", payload: chatBody({ stream }) });
    expect(res.statusCode).toBe(500);
    const error = expectEnvelope(res.body, "server_error");
    expect(res.body).not.toContain("secret internals");
    expect(error.message).not.toContain("undefined");
  }
});
