/**
 * GET /metrics over the fake engine: the HTTP seams. Each generation
 * request is counted once by endpoint, status and finish reason, whatever
 * ends it (a stream, a JSON answer, a 400 from validation or from the JSON
 * parser, a 401, a 404 model, a 429, a client gone mid-stream or before its
 * answer); the time to first token and the per-request histograms count
 * exactly the requests they are defined on; the output passes a strict
 * text-format check. The engine's own metrics are tested with the real
 * engine (test/e2e/metrics.test.ts).
 */
import { once } from "node:events";
import { request as httpRequest, type ClientRequest, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { queueFull } from "../../src/errors.ts";
import { parsePrometheusText, sampleValue, samplesOf, type MetricFamily } from "../support/prometheus-text.ts";
import { helloScript, untilAbortScript, type EventScript } from "./fake-engine.ts";
import { chatBody, completionBody, makeApp } from "./helpers.ts";

const KEY = "key-metrics";

/** Waits for the client to go, then ends as cancelled without a token. */
const cancelledBeforeAnyToken: EventScript = async function* (_request, options) {
  await new Promise<void>((resolve) => {
    if (options.signal.aborted) resolve();
    options.signal.addEventListener("abort", () => resolve(), { once: true });
  });
  yield { type: "finish", index: 0, finishReason: "cancelled" };
  yield { type: "end", usage: { promptTokens: 5, completionTokens: 0, totalTokens: 5 } };
};

describe("GET /metrics", () => {
  it("answers the Prometheus text format: request, engine and process metrics, strictly well formed", async () => {
    const { app, engine } = makeApp();
    engine.healthState = { ...engine.healthState, running: 3 };
    const res = await app.inject({ method: "GET", url: "/metrics" });
    expect(res.statusCode).toBe(200);
    expect(res.headers["content-type"]).toBe("text/plain; version=0.0.4; charset=utf-8");
    const families = parsePrometheusText(res.body);
    const types = Object.fromEntries([...families.values()].filter((f) => f.name.startsWith("onnx_server_")).map((f) => [f.name, f.type]));
    expect(types).toEqual({
      onnx_server_requests_total: "counter",
      onnx_server_time_to_first_token_seconds: "histogram",
      onnx_server_e2e_request_latency_seconds: "histogram",
      onnx_server_request_prompt_tokens: "histogram",
      onnx_server_request_generation_tokens: "histogram",
      // The engine's registry is part of the same answer.
      onnx_server_num_requests_running: "gauge",
    });
    expect(sampleValue(families, "onnx_server_num_requests_running")).toBe(3);
    // Before any request: histograms with every bucket at 0, the token buckets up to the context (2048).
    expect(sampleValue(families, "onnx_server_time_to_first_token_seconds_count")).toBe(0);
    const tokenBuckets = samplesOf(families, "onnx_server_request_prompt_tokens_bucket").map((s) => s.labels.le);
    expect(tokenBuckets).toEqual(["1", "2", "5", "10", "20", "50", "100", "200", "500", "1000", "2000", "2048", "+Inf"]);
    // prom-client's default process metrics.
    for (const name of ["process_cpu_user_seconds_total", "process_resident_memory_bytes", "nodejs_heap_size_used_bytes", "nodejs_eventloop_lag_seconds"]) {
      expect(families.has(name), name).toBe(true);
    }
    await app.close();
  });

  it("needs the API key when keys are configured", async () => {
    const { app } = makeApp({ apiKeys: ["key-a"] });
    const without = await app.inject({ method: "GET", url: "/metrics" });
    expect(without.statusCode).toBe(401);
    expect(without.json()).toMatchObject({ error: { type: "authentication_error", code: "invalid_api_key" } });
    const withKey = await app.inject({ method: "GET", url: "/metrics", headers: { authorization: "Bearer key-a" } });
    expect(withKey.statusCode).toBe(200);
    await app.close();
  });

  it("two apps in one process keep their own counts", async () => {
    const first = makeApp();
    const second = makeApp();
    await first.app.inject({ method: "POST", url: "/v1/completions", payload: completionBody() });
    const count = async (app: typeof first.app): Promise<number> => {
      const families = parsePrometheusText((await app.inject({ method: "GET", url: "/metrics" })).body);
      return samplesOf(families, "onnx_server_requests_total").reduce((sum, s) => sum + s.value, 0);
    };
    // Counted when the response closes, a tick after inject has it: wait for that state.
    while ((await count(first.app)) < 1);
    expect(await count(first.app)).toBe(1);
    expect(await count(second.app)).toBe(0);
    await Promise.all([first.app.close(), second.app.close()]);
  });
});

describe("request metrics over a real socket", () => {
  const { app, engine } = makeApp({ apiKeys: [KEY] });
  let base = "";
  let port = 0;
  beforeAll(async () => {
    await app.listen({ host: "127.0.0.1", port: 0 });
    port = (app.server.address() as AddressInfo).port;
    base = `http://127.0.0.1:${port}`;
  });
  afterAll(() => app.close());

  const auth = { authorization: `Bearer ${KEY}` };
  const post = (path: string, body: unknown, headers: Record<string, string> = auth): Promise<Response> =>
    fetch(`${base}${path}`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: typeof body === "string" ? body : JSON.stringify(body) });

  /** A raw request whose socket the test destroys. */
  function rawPost(path: string, body: unknown): { req: ClientRequest; response: Promise<IncomingMessage> } {
    const payload = JSON.stringify(body);
    const req = httpRequest({ host: "127.0.0.1", port, method: "POST", path, headers: { ...auth, "content-type": "application/json", "content-length": Buffer.byteLength(payload) } });
    req.on("error", () => undefined); // destroying our own socket is the point
    const response = once(req, "response").then(([res]) => res as IncomingMessage);
    response.catch(() => undefined);
    req.end(payload);
    return { req, response };
  }

  const scrape = async (): Promise<Map<string, MetricFamily>> => {
    const res = await fetch(`${base}/metrics`, { headers: auth });
    expect(res.status).toBe(200);
    return parsePrometheusText(await res.text());
  };
  const requestsCounted = async (): Promise<number> => samplesOf(await scrape(), "onnx_server_requests_total").reduce((sum, s) => sum + s.value, 0);

  it("counts every generation request once, by endpoint, status and finish_reason", async () => {
    engine.script = helloScript;
    // 1. A stream that finishes.
    const streamed = await post("/v1/chat/completions", chatBody({ stream: true }));
    expect(streamed.status).toBe(200);
    expect(await streamed.text()).toMatch(/\[DONE\]\n\n$/);
    // 2. A JSON answer.
    expect((await post("/v1/completions", completionBody())).status).toBe(200);
    // 3. A 400 from validation, 4. a 400 from the JSON parser, 5. a 401, 6. a 404 model.
    expect((await post("/v1/chat/completions", chatBody({ temperature: 9 }))).status).toBe(400);
    expect((await post("/v1/completions", "{not json")).status).toBe(400);
    expect((await post("/v1/chat/completions", chatBody(), {})).status).toBe(401);
    expect((await post("/v1/completions", completionBody({ model: "other" }))).status).toBe(404);
    // 7. A 429 from the engine.
    engine.startError = queueFull(1);
    expect((await post("/v1/chat/completions", chatBody())).status).toBe(429);
    engine.startError = null;

    // 8. A client gone mid-stream, after its first content chunk.
    engine.script = untilAbortScript;
    const started = engine.nextStart();
    const midStream = rawPost("/v1/chat/completions", chatBody({ stream: true }));
    const call = await started;
    let received = "";
    for await (const chunk of await midStream.response) {
      received += String(chunk);
      if (received.includes('"content":"Hel"')) break;
    }
    midStream.req.destroy();
    await call.returned;

    // 9. A client gone before its JSON answer, before any token.
    engine.script = cancelledBeforeAnyToken;
    const startedPlain = engine.nextStart();
    const plain = rawPost("/v1/chat/completions", chatBody());
    const plainCall = await startedPlain;
    plain.req.destroy();
    await plainCall.returned;

    // The last two finish when the server has seen the sockets close: wait for that state.
    while ((await requestsCounted()) < 9);
    const families = await scrape();
    const counted = samplesOf(families, "onnx_server_requests_total").map((s) => ({ ...s.labels, value: s.value }));
    expect(counted).toEqual(
      expect.arrayContaining([
        { endpoint: "/v1/chat/completions", status: "200", finish_reason: "stop", value: 1 },
        { endpoint: "/v1/completions", status: "200", finish_reason: "stop", value: 1 },
        { endpoint: "/v1/chat/completions", status: "400", finish_reason: "none", value: 1 },
        { endpoint: "/v1/completions", status: "400", finish_reason: "none", value: 1 },
        { endpoint: "/v1/chat/completions", status: "401", finish_reason: "none", value: 1 },
        { endpoint: "/v1/completions", status: "404", finish_reason: "none", value: 1 },
        { endpoint: "/v1/chat/completions", status: "429", finish_reason: "none", value: 1 },
        // The stream's head was sent: 200, cut short by the client.
        { endpoint: "/v1/chat/completions", status: "200", finish_reason: "cancelled", value: 1 },
        // Gone before any response: nginx's 499, never sent.
        { endpoint: "/v1/chat/completions", status: "499", finish_reason: "cancelled", value: 1 },
      ]),
    );
    expect(counted).toHaveLength(9);
    // A first token reached the stream (1), the JSON answer (2) and the stream cut after "Hel" (8).
    expect(sampleValue(families, "onnx_server_time_to_first_token_seconds_count")).toBe(3);
    // The engine admitted 1, 2, 8 and 9: each has an end-to-end time and token counts (the fake's usage).
    expect(sampleValue(families, "onnx_server_e2e_request_latency_seconds_count")).toBe(4);
    expect(sampleValue(families, "onnx_server_request_prompt_tokens_count")).toBe(4);
    expect(sampleValue(families, "onnx_server_request_prompt_tokens_sum")).toBe(20);
    expect(sampleValue(families, "onnx_server_request_generation_tokens_count")).toBe(4);
    expect(sampleValue(families, "onnx_server_request_generation_tokens_sum")).toBe(2 + 2 + 1 + 0);
    expect(sampleValue(families, "onnx_server_request_generation_tokens_bucket", { le: "1" })).toBe(2);
  });
});
