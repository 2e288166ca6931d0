/**
 * GET /metrics with the real engine on the shipped tiny-chat model: after a
 * scripted mix (a stream and a JSON answer that run to max_tokens, a 400, a
 * 401, a running stream whose client disconnects, a queued stream later
 * cancelled through the stop endpoint, a 429 from a full queue, a worker
 * restart, and a stream cancelled by shutdown), every histogram's _count and
 * every counter's value is exactly what the mix implies, the metric names,
 * types and label sets are the documented ones, and the text passes the
 * strict format check. Rows are greedy with EOS banned, so each runs to its
 * max_tokens unless something ends it; every wait is on the engine's state
 * or an event, never on the clock.
 */
import { request as httpRequest, type ClientRequest, type IncomingMessage } from "node:http";
import { once } from "node:events";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eosBan, tinyChat } from "../support/fixtures.ts";
import { introspect } from "../support/engine.ts";
import { postJson, readSse, startLiveServer, until, whenReleased, type LiveServer } from "../support/live-server.ts";
import { parsePrometheusText, sampleValue, samplesOf, type MetricFamily } from "../support/prometheus-text.ts";

const KEY = "sk-metrics-e2e";
const auth = { authorization: `Bearer ${KEY}` };
/** Far from what a cancel or disconnect leaves of a row; the prompt (33 tokens) + 450 fits the 512 context. */
const LONG = 450;

interface WireUsage {
  prompt_tokens: number;
  completion_tokens: number;
}

/** Every family this server defines, its type and its labels (besides le and quantile). */
const FAMILIES: Record<string, [string, string[]]> = {
  onnx_server_requests_total: ["counter", ["endpoint", "status", "finish_reason"]],
  onnx_server_time_to_first_token_seconds: ["histogram", []],
  onnx_server_e2e_request_latency_seconds: ["histogram", []],
  onnx_server_request_prompt_tokens: ["histogram", []],
  onnx_server_request_generation_tokens: ["histogram", []],
  onnx_server_request_queue_time_seconds: ["histogram", []],
  onnx_server_request_prefill_time_seconds: ["histogram", []],
  onnx_server_inter_token_latency_seconds: ["histogram", []],
  onnx_server_generation_tokens_total: ["counter", []],
  onnx_server_step_seconds: ["histogram", []],
  onnx_server_step_rows: ["histogram", []],
  onnx_server_release_seconds: ["summary", []],
  onnx_server_release_steps: ["summary", []],
  onnx_server_cancels_total: ["counter", ["source"]],
  onnx_server_worker_restarts_total: ["counter", []],
  onnx_server_num_requests_running: ["gauge", []],
  onnx_server_num_requests_waiting: ["gauge", []],
  onnx_server_kv_tokens_in_use: ["gauge", []],
  onnx_server_kv_tokens_reserved: ["gauge", []],
  onnx_server_kv_tokens_capacity: ["gauge", []],
};

describe("GET /metrics after a scripted mix, with the real engine", () => {
  let server: LiveServer;
  beforeAll(async () => {
    // One row at a time and one waiting row at most: a running stream makes the next one wait, and the one after a 429.
    server = await startLiveServer(tinyChat, { maxBatchSize: 1, maxQueue: 1 }, { apiKeys: [KEY] });
  });
  afterAll(() => server.close());

  const chat = (extra: Record<string, unknown> = {}): Record<string, unknown> => ({
    model: server.model,
    messages: [{ role: "user", content: "What is 123 + 456?" }],
    temperature: 0,
    logit_bias: eosBan(tinyChat),
    ...extra,
  });
  const post = (path: string, body: unknown, headers: Record<string, string> = auth): Promise<Response> => postJson(`${server.url}${path}`, body, headers);
  const scrape = async (): Promise<Map<string, MetricFamily>> => {
    const res = await fetch(`${server.url}/metrics`, { headers: auth });
    expect(res.status).toBe(200);
    return parsePrometheusText(await res.text());
  };
  const contentOf = (json: Record<string, unknown> | null): string | undefined =>
    (json?.choices as Array<{ delta?: { content?: string } }> | undefined)?.[0]?.delta?.content;
  const usageOf = (events: Awaited<ReturnType<typeof readSse>>): WireUsage => events.at(-2)!.json!.usage as WireUsage;
  const lastFinish = (events: Awaited<ReturnType<typeof readSse>>): string =>
    (events.at(-3)!.json!.choices as Array<{ finish_reason: string }>)[0].finish_reason;

  /** A stream on a raw socket, so that the test can destroy it. */
  function rawStream(body: unknown): { req: ClientRequest; response: Promise<IncomingMessage> } {
    const payload = JSON.stringify(body);
    const req = httpRequest(`${server.url}/v1/chat/completions`, {
      method: "POST",
      headers: { ...auth, "content-type": "application/json", "content-length": Buffer.byteLength(payload) },
    });
    req.on("error", () => undefined); // destroying our own socket is the point
    const response = once(req, "response").then(([res]) => res as IncomingMessage);
    req.end(payload);
    return { req, response };
  }

  it("counts exactly what was sent, under the documented names, types and labels", async () => {
    const engine = server.engine;
    const usages: WireUsage[] = [];

    // 1. A stream and 2. a JSON answer, each run to max_tokens.
    const streamed = await readSse(await post("/v1/chat/completions", chat({ max_tokens: 5, stream: true, stream_options: { include_usage: true } })));
    expect(lastFinish(streamed)).toBe("length");
    usages.push(usageOf(streamed));
    const answered = await post("/v1/completions", { model: server.model, prompt: "Once upon a time", max_tokens: 3, temperature: 0, logit_bias: eosBan(tinyChat) });
    expect(answered.status).toBe(200);
    usages.push(((await answered.json()) as { usage: WireUsage }).usage);
    const promptTokens = usages[0].prompt_tokens;

    // 3. A 400 from validation, 4. a 401.
    expect((await post("/v1/chat/completions", chat({ temperature: 5 }))).status).toBe(400);
    expect((await post("/v1/chat/completions", chat(), {})).status).toBe(401);

    // 5. A long stream holds the only batch slot; 6. the next one waits for it.
    const running = rawStream(chat({ max_tokens: LONG, stream: true }));
    const runningRes = await running.response;
    const runningId = runningRes.headers["x-request-id"] as string;
    await until(() => engine.health().running === 1);
    const waitingRes = await post("/v1/chat/completions", chat({ max_tokens: LONG, stream: true, stream_options: { include_usage: true } }));
    const waitingId = waitingRes.headers.get("x-request-id")!;
    await until(() => engine.health().queued === 1);

    // While one row runs and one waits: the gauges say so.
    const busy = await scrape();
    expect(sampleValue(busy, "onnx_server_num_requests_running")).toBe(1);
    expect(sampleValue(busy, "onnx_server_num_requests_waiting")).toBe(1);
    expect(sampleValue(busy, "onnx_server_kv_tokens_reserved")).toBe(promptTokens + LONG);
    // At least the running row's prompt; its generated tokens too, as many as it has drawn by now (none yet on a busy machine).
    expect(sampleValue(busy, "onnx_server_kv_tokens_in_use")).toBeGreaterThanOrEqual(promptTokens);
    expect(sampleValue(busy, "onnx_server_kv_tokens_in_use")).toBeLessThanOrEqual(promptTokens + LONG);
    expect(sampleValue(busy, "onnx_server_kv_tokens_capacity")).toBe(65536);

    // 7. The queue is full: 429.
    const refused = await post("/v1/completions", { model: server.model, prompt: "Once", max_tokens: 2 });
    expect(refused.status).toBe(429);

    // 5 ends: its client disconnects after three content chunks.
    const runningGone = whenReleased(engine, runningId);
    let contentFrames = 0;
    for await (const chunk of runningRes) {
      contentFrames += String(chunk).split("\n\n").filter((frame) => frame.includes('"content":"') && !frame.includes('"content":""')).length;
      if (contentFrames >= 3) break;
    }
    running.req.destroy();
    await runningGone;
    const disconnected = (await (await post(`/v1/chat/completions/${runningId}/cancel`, {})).json()) as { status: string; usage: WireUsage };
    expect(disconnected.status).toBe("already_finished");
    expect(disconnected.usage.completion_tokens).toBeLessThan(LONG);
    usages.push(disconnected.usage);

    // 6 runs now; it is cancelled through the stop endpoint after three content chunks.
    const waitingGone = whenReleased(engine, waitingId);
    let seen = 0;
    const waitingEvents = await readSse(waitingRes, async (e) => {
      if (contentOf(e.json) && ++seen === 3) {
        const cancel = (await (await post(`/v1/chat/completions/${waitingId}/cancel`, {})).json()) as { status: string };
        expect(cancel.status).toBe("cancelled");
      }
    });
    expect(lastFinish(waitingEvents)).toBe("cancelled");
    usages.push(usageOf(waitingEvents));
    await waitingGone;

    // 8. A worker dies and is replaced.
    await introspect(engine).killWorker(0);
    await until(() => engine.health().workersAlive === 1);

    // 9. Shutdown cancels a stream that has sent its first token.
    const lastRes = await post("/v1/chat/completions", chat({ max_tokens: LONG, stream: true, stream_options: { include_usage: true } }));
    let closing: Promise<void> | null = null;
    const lastEvents = await readSse(lastRes, (e) => {
      if (closing === null && contentOf(e.json)) closing = engine.close(0);
    });
    await closing;
    expect(lastFinish(lastEvents)).toBe("cancelled");
    usages.push(usageOf(lastEvents));

    // Every generation request has been counted once the server has seen every response close.
    const total = (families: Map<string, MetricFamily>): number => samplesOf(families, "onnx_server_requests_total").reduce((sum, s) => sum + s.value, 0);
    while (total(await scrape()) < 8);
    const families = await scrape();

    // Names, types and label sets.
    for (const [name, [type, labels]] of Object.entries(FAMILIES)) {
      const family = families.get(name);
      expect(family?.type, name).toBe(type);
      for (const s of family!.samples) {
        expect(Object.keys(s.labels).filter((l) => l !== "le" && l !== "quantile").sort(), s.name).toEqual([...labels].sort());
      }
    }
    expect([...families.keys()].filter((name) => name.startsWith("onnx_server_")).sort()).toEqual(Object.keys(FAMILIES).sort());

    // Counters.
    const requests = samplesOf(families, "onnx_server_requests_total").map((s) => ({ ...s.labels, value: s.value }));
    expect(requests).toHaveLength(6);
    expect(requests).toEqual(
      expect.arrayContaining([
        { endpoint: "/v1/chat/completions", status: "200", finish_reason: "length", value: 1 },
        { endpoint: "/v1/completions", status: "200", finish_reason: "length", value: 1 },
        { endpoint: "/v1/chat/completions", status: "400", finish_reason: "none", value: 1 },
        { endpoint: "/v1/chat/completions", status: "401", finish_reason: "none", value: 1 },
        { endpoint: "/v1/completions", status: "429", finish_reason: "none", value: 1 },
        // The disconnect, the stop endpoint and shutdown: each stream had sent its head (200).
        { endpoint: "/v1/chat/completions", status: "200", finish_reason: "cancelled", value: 3 },
      ]),
    );
    for (const source of ["endpoint", "disconnect", "shutdown"]) expect(sampleValue(families, "onnx_server_cancels_total", { source }), source).toBe(1);
    expect(sampleValue(families, "onnx_server_worker_restarts_total")).toBe(1);
    const generated = usages.reduce((sum, u) => sum + u.completion_tokens, 0);
    expect(sampleValue(families, "onnx_server_generation_tokens_total")).toBe(generated);

    // Histograms: the five admitted requests each have one time to first token, queue wait,
    // prefill, end-to-end time and token counts; every later token of a choice one gap.
    const count = (name: string): number => sampleValue(families, `${name}_count`);
    for (const name of [
      "onnx_server_time_to_first_token_seconds",
      "onnx_server_e2e_request_latency_seconds",
      "onnx_server_request_queue_time_seconds",
      "onnx_server_request_prefill_time_seconds",
      "onnx_server_request_prompt_tokens",
      "onnx_server_request_generation_tokens",
    ]) {
      expect(count(name), name).toBe(5);
    }
    expect(sampleValue(families, "onnx_server_request_prompt_tokens_sum")).toBe(usages.reduce((sum, u) => sum + u.prompt_tokens, 0));
    expect(sampleValue(families, "onnx_server_request_generation_tokens_sum")).toBe(generated);
    expect(count("onnx_server_inter_token_latency_seconds")).toBe(generated - usages.length);
    // The three rows released by message while running (disconnect, stop endpoint, shutdown);
    // the two that ran to max_tokens left by themselves.
    expect(count("onnx_server_release_seconds")).toBe(3);
    expect(count("onnx_server_release_steps")).toBe(3);
    expect(count("onnx_server_step_seconds")).toBe(count("onnx_server_step_rows"));
    expect(samplesOf(families, "onnx_server_step_rows_bucket").map((s) => s.labels.le)).toEqual(["1", "+Inf"]);

    // Gauges after shutdown: nothing held, no worker ready.
    for (const name of ["num_requests_running", "num_requests_waiting", "kv_tokens_in_use", "kv_tokens_reserved", "kv_tokens_capacity"]) {
      expect(sampleValue(families, `onnx_server_${name}`), name).toBe(0);
    }
  });
});
