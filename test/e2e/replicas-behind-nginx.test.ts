/**
 * Two real server processes sharing a real redis-server, behind a real
 * nginx (Debian's package) running deploy/nginx/onnx-openai-server.conf
 * with its plain round robin, all on loopback ports. The shipped tiny-chat
 * model; streams that must run until cancelled are greedy with EOS banned
 * (450 tokens), so only a cancel can end them early. One row per replica
 * (--max-batch-size 1), so a replica's queue is easy to fill, and a request
 * of 32 such choices (HOLD) keeps one busy for thousands of steps: far
 * longer than any scenario takes to cancel it.
 *
 * The scenarios, in order, on the same processes: 20 of 20 cancels
 * through nginx (owner-only, already_finished after the end); Redis killed
 * and brought back; a stream queued behind a full batch through an nginx
 * with proxy_read_timeout 2s; and SIGTERM plus restart of one replica under
 * steady load, with no failed request at the client. Every wait is for a
 * condition (a status, a log line, a count), never a fixed time.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eosBan, tinyChat } from "../support/fixtures.ts";
import { postJson, readSse, until, type SseEvent } from "../support/live-server.ts";
import { startNginx, type Nginx } from "../support/nginx.ts";
import { redisServer, type RedisServer } from "../support/redis-server.ts";
import { startReplica, type Replica } from "../support/replicas.ts";
import { nginxBinary, redisServerBinary } from "../support/system-binary.ts";

const FILE = "test/e2e/replicas-behind-nginx.test.ts";
redisServerBinary.reportSkipped(FILE);
nginxBinary.reportSkipped(FILE);

const KEY_A = "sk-replicas-owner-a";
const KEY_B = "sk-replicas-owner-b";
const auth = (key: string): Record<string, string> => ({ authorization: `Bearer ${key}` });
/** Prompt (33 tokens) + 450 fits tiny-chat's 512-token context. */
const LONG = 450;
const HEARTBEAT_MS = 500;
/** Choices of a request that holds its replica until cancelled: 32 x 450 tokens, one row at a time. */
const HOLD = 32;

/** A non-streamed chat request that runs to max_tokens (LONG unless `extra` says otherwise). */
const chat = (extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  model: "tiny-chat",
  messages: [{ role: "user", content: "What is 123 + 456?" }],
  max_tokens: LONG,
  temperature: 0,
  logit_bias: eosBan(tinyChat),
  ...extra,
});
/** The same, streamed, with the usage chunk. */
const streamChat = (extra: Record<string, unknown> = {}): Record<string, unknown> => chat({ stream: true, stream_options: { include_usage: true }, ...extra });

interface Cancellation {
  id: string;
  status: string;
  usage: { completion_tokens: number };
}

const finishReason = (events: SseEvent[]): string => (events.at(-3)!.json!.choices as Array<{ finish_reason: string }>)[0].finish_reason;
const completionTokens = (events: SseEvent[]): number => (events.at(-2)!.json!.usage as { completion_tokens: number }).completion_tokens;
const cancelUrl = (base: string, handle: string): string => `${base}/v1/chat/completions/${encodeURIComponent(handle)}/cancel`;
const readyBody = async (replica: Replica): Promise<{ cancelRelay?: { state: string } }> => (await fetch(`${replica.url}/ready`)).json() as Promise<{ cancelRelay?: { state: string } }>;
/** True once `replica` reports its Redis link in `state` on /ready (polled by the callers). */
const relayState = async (replica: Replica, state: string): Promise<boolean> => (await readyBody(replica)).cancelRelay?.state === state;
async function eventually(check: () => Promise<boolean>): Promise<void> {
  while (!(await check())) await new Promise((resolve) => setTimeout(resolve, 20));
}

describe.skipIf(redisServerBinary.skip || nginxBinary.skip)("two replicas behind nginx, sharing Redis", () => {
  let redis: RedisServer;
  let a: Replica;
  let b: Replica;
  let gateway: Nginx;

  beforeAll(async () => {
    redis = await redisServer();
    await redis.start();
    const args = ["--model", tinyChat, "--threads", "1", "--max-batch-size", "1", "--max-n", String(HOLD), "--sse-heartbeat-ms", String(HEARTBEAT_MS)];
    const env = { REDIS_URL: redis.url, API_KEYS: `${KEY_A},${KEY_B}` };
    [a, b] = await Promise.all([startReplica(args, env), startReplica(args, env)]);
    await eventually(async () => (await relayState(a, "connected")) && (await relayState(b, "connected")));
    gateway = await startNginx({ replicaPorts: [a.port, b.port] });
  }, 120_000);
  afterAll(async () => {
    await gateway?.stop();
    await Promise.all([a?.stop(), b?.stop()]);
    await redis?.kill();
  });

  /** A stream through `base`; when its first chunk (the role) arrives, `act` runs with its completion id; then it is read to the end. */
  async function streamAndAct(base: string, headers: Record<string, string>, act: (id: string) => Promise<void>): Promise<SseEvent[]> {
    const res = await postJson(`${base}/v1/chat/completions`, streamChat(), headers);
    expect(res.status).toBe(200);
    return readSse(res, async (event, index) => {
      if (index === 0) await act(event.json!.id as string);
    });
  }

  it("20 of 20 cancels through nginx, by completion id and by client X-Request-Id, end their streams cancelled with no token after the cancel; relayed ones among them", async () => {
    const relayedBefore = (a.logText() + b.logText()).split('"msg":"cancel relayed"').length - 1;
    for (let i = 0; i < 20; i++) {
      // Gateway-style ids for half of them: they must pass, come back unchanged and cancel.
      const clientId = i % 2 === 0 ? undefined : `Root=1-5f84c7a1-${i};Sampled=1`;
      let answer: Cancellation | null = null;
      const events = await streamAndAct(gateway.url, { ...auth(KEY_A), ...(clientId ? { "x-request-id": clientId } : {}) }, async (id) => {
        const res = await postJson(cancelUrl(gateway.url, clientId ?? id), {}, auth(KEY_A));
        expect(res.status).toBe(200);
        answer = (await res.json()) as Cancellation;
        expect(answer).toMatchObject({ id, status: "cancelled" });
      });
      expect(events.at(-1)!.raw).toBe("[DONE]");
      expect(finishReason(events)).toBe("cancelled");
      // The owner's engine ended the request when the relayed cancel reached it: no token was counted after.
      expect(completionTokens(events)).toBe(answer!.usage.completion_tokens);
      expect(completionTokens(events)).toBeLessThan(LONG);
    }
    // Round robin sent cancels to the replica that did not hold the stream: those went through Redis.
    const relayed = (a.logText() + b.logText()).split('"msg":"cancel relayed"').length - 1 - relayedBefore;
    expect(relayed).toBeGreaterThan(0);
    console.info(`${FILE}: ${relayed} of 20 cancels through nginx were relayed to the other replica`);
  });

  it("owner-only across replicas: another key's cancel is 404 on both replicas; after the end every replica says already_finished", async () => {
    let id = "";
    const events = await streamAndAct(gateway.url, auth(KEY_A), async (completionId) => {
      id = completionId;
      for (const replica of [a, b]) {
        const refused = await postJson(cancelUrl(replica.url, completionId), {}, auth(KEY_B));
        expect(refused.status).toBe(404);
        expect(((await refused.json()) as { error: { code: string } }).error.code).toBe("not_found");
      }
      expect((await postJson(cancelUrl(gateway.url, completionId), {}, auth(KEY_A))).status).toBe(200);
    });
    expect(finishReason(events)).toBe("cancelled");
    const final = completionTokens(events);
    // The end is recorded in Redis in the background, just after the stream's last byte.
    for (const replica of [a, b]) {
      await eventually(async () => (await postJson(cancelUrl(replica.url, id), {}, auth(KEY_A))).status === 200);
      const late = (await (await postJson(cancelUrl(replica.url, id), {}, auth(KEY_A))).json()) as Cancellation;
      expect(late).toMatchObject({ id, status: "already_finished", usage: { completion_tokens: final } });
      expect((await postJson(cancelUrl(replica.url, id), {}, auth(KEY_B))).status).toBe(404);
    }
  });

  it("Redis killed mid-run: generation goes on, local cancels work, relayed cancels get 503; Redis back: relays work again without a restart", async () => {
    /** A request that holds replica a until it is cancelled; resolves with its choices' finish reasons. */
    const hold = (clientId: string): Promise<string[]> =>
      postJson(`${a.url}/v1/chat/completions`, chat({ n: HOLD }), { ...auth(KEY_A), "x-request-id": clientId }).then(async (res) => {
        expect(res.status).toBe(200);
        return ((await res.json()) as { choices: Array<{ finish_reason: string }> }).choices.map((c) => c.finish_reason);
      });
    const isRunning = async (): Promise<boolean> => ((await (await fetch(`${a.url}/ready`)).json()) as { running: number }).running === 1;

    const before = hold("before-outage");
    await eventually(isRunning);
    await redis.kill();
    await eventually(async () => (await relayState(a, "degraded")) && (await relayState(b, "degraded")));
    expect((await fetch(`${a.url}/ready`)).status).toBe(200);

    // A cancel that needs the relay: 503 with a message that says why.
    const relayed = await postJson(cancelUrl(b.url, "before-outage"), {}, auth(KEY_A));
    expect(relayed.status).toBe(503);
    expect(relayed.headers.get("retry-after")).toBe("1");
    expect(((await relayed.json()) as { error: { message: string } }).error.message).toMatch(/Redis.*cannot be reached/);
    // The local cancel works.
    const local = await postJson(cancelUrl(a.url, "before-outage"), {}, auth(KEY_A));
    expect(((await local.json()) as Cancellation).status).toBe("cancelled");
    expect(new Set(await before)).toEqual(new Set(["cancelled"]));

    // Generation goes on, through the gateway too.
    for (let i = 0; i < 2; i++) {
      const plain = await postJson(`${gateway.url}/v1/chat/completions`, chat({ max_tokens: 8 }), auth(KEY_A));
      expect(plain.status).toBe(200);
      expect(((await plain.json()) as { choices: Array<{ finish_reason: string }> }).choices[0].finish_reason).toBe("length");
    }

    // A request started during the outage is known to its replica only, until Redis is back.
    const during = hold("during-outage");
    await eventually(isRunning);
    await redis.start();
    await eventually(async () => (await relayState(a, "connected")) && (await relayState(b, "connected")));
    // Replica a writes its live requests again once it has reconnected; then b relays to it.
    let answer: Cancellation | null = null;
    await eventually(async () => {
      const res = await postJson(cancelUrl(b.url, "during-outage"), {}, auth(KEY_A));
      if (res.status === 200) answer = (await res.json()) as Cancellation;
      return answer !== null;
    });
    expect(answer!.status).toBe("cancelled");
    expect(new Set(await during)).toEqual(new Set(["cancelled"]));
    // And a request started after the outage is relayed at once.
    const after = await streamAndAct(a.url, auth(KEY_A), async (id) => {
      const res = await postJson(cancelUrl(b.url, id), {}, auth(KEY_A));
      expect(((await res.json()) as Cancellation).status).toBe("cancelled");
    });
    expect(finishReason(after)).toBe("cancelled");
  });

  it("a stream queued behind a full batch, through nginx with proxy_read_timeout 2s, survives a 6 s wait on keep-alive comments and completes", async () => {
    // This gateway sends everything to replica a, with a 2 s read timeout.
    const strict = await startNginx({ replicaPorts: [a.port, a.port], readTimeout: "2s" });
    try {
      // The blocker: HOLD choices of 450 tokens, one row at a time; far longer than 6 s of decoding.
      const blockerIds = ["blocker"];
      const blockers = blockerIds.map((id) => postJson(`${a.url}/v1/chat/completions`, chat({ n: HOLD }), { ...auth(KEY_A), "x-request-id": id }));
      // Its first row runs, the others wait (thousands of steps of them: the stream below waits behind them).
      await eventually(async () => ((await (await fetch(`${a.url}/ready`)).json()) as { queued: number }).queued >= HOLD / 2);

      const res = await postJson(`${strict.url}/v1/chat/completions`, streamChat({ max_tokens: 12 }), auth(KEY_A));
      expect(res.status).toBe(200);
      const queuedSince = Date.now();
      let comments = 0;
      let contentBeforeRelease = 0;
      let released = false;
      const waited = (async () => {
        // Wait 6 s of the clock while the stream stays queued, then free the batch.
        await eventually(async () => Date.now() - queuedSince >= 6000);
        const stopped = await Promise.all(blockerIds.map(async (id) => ((await (await postJson(cancelUrl(a.url, id), {}, auth(KEY_A))).json()) as Cancellation).status));
        // The blocker was still running: the stream really was queued behind it all along.
        expect(stopped.at(-1)).toBe("cancelled");
        released = true;
      })();
      const events = await readSse(
        res,
        (event) => {
          const delta = (event.json?.choices as Array<{ delta?: { content?: string } }> | undefined)?.[0]?.delta;
          if (!released && delta?.content) contentBeforeRelease++;
        },
        () => comments++,
      );
      await waited;
      await Promise.all(blockers);
      expect(contentBeforeRelease).toBe(0);
      expect(comments).toBeGreaterThan(0);
      expect(events.at(-1)!.raw).toBe("[DONE]");
      expect(finishReason(events)).toBe("length");
      expect(completionTokens(events)).toBe(12);
    } finally {
      await strict.stop();
    }
  });

  it("steady load through nginx, SIGTERM to one replica and a restart of it: zero failed requests at the client", async () => {
    const outcomes = { ok: 0, failed: [] as string[] };
    let running = true;
    const oneRequest = async (stream: boolean): Promise<void> => {
      try {
        const res = await postJson(`${gateway.url}/v1/chat/completions`, (stream ? streamChat : chat)({ max_tokens: 16 }), auth(KEY_A));
        if (res.status !== 200) throw new Error(`HTTP ${res.status}: ${await res.text()}`);
        if (stream) {
          const events = await readSse(res);
          if (events.at(-1)?.raw !== "[DONE]" || finishReason(events) !== "length") throw new Error(`stream ended badly: ${events.at(-3)?.raw}`);
        } else {
          const body = (await res.json()) as { choices: Array<{ finish_reason: string }> };
          if (body.choices[0].finish_reason !== "length") throw new Error(`finish ${body.choices[0].finish_reason}`);
        }
        outcomes.ok++;
      } catch (error) {
        outcomes.failed.push(String(error));
      }
    };
    const clients = Array.from({ length: 4 }, async (_, c) => {
      for (let i = 0; running; i++) await oneRequest((i + c) % 2 === 0);
    });
    const servedBy = (replica: Replica): number => replica.logText().split('"msg":"generation finished"').length - 1;

    await until(() => outcomes.ok + outcomes.failed.length >= 20);
    expect(await a.terminate()).toBe(0);
    const servedBeforeRestart = servedBy(a);
    await a.restart();
    // Back in the rotation: the restarted replica has served requests of the load.
    await until(() => servedBy(a) >= servedBeforeRestart + 10);
    running = false;
    await Promise.all(clients);

    expect(outcomes.failed).toEqual([]);
    const retried = gateway.accessLog().filter((line) => /^\d+ \S+, /.test(line)).length;
    console.info(`${FILE}: restart under load: ${outcomes.ok} requests, ${outcomes.failed.length} failed, ${retried} retried by nginx on the other replica`);
  });
});
