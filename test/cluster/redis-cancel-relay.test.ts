/**
 * RedisCancelRelay against a real redis-server, two relays standing for two
 * replicas. Their engines are the seam: a table of live and finished
 * requests per replica, answering as OnnxEngine.cancel does. Every wait is
 * on a condition (a status, a record), never on the clock.
 */
import pino from "pino";
import { createClient } from "redis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RedisCancelRelay } from "../../src/cluster/redis-cancel-relay.ts";
import { doneKey, liveKey } from "../../src/cluster/relay-records.ts";
import type { Usage } from "../../src/domain.ts";
import type { CancelResult } from "../../src/engine/engine.ts";
import { ApiError } from "../../src/errors.ts";
import { until } from "../support/live-server.ts";
import { freePort } from "../support/free-port.ts";
import { redisServer, type RedisServer } from "../support/redis-server.ts";
import { redisServerBinary } from "../support/system-binary.ts";

redisServerBinary.reportSkipped("test/cluster/redis-cancel-relay.test.ts");

const usage = (completionTokens: number): Usage => ({ promptTokens: 10, completionTokens, totalTokens: 10 + completionTokens });

/** A replica's engine, as far as cancel goes: who holds what, and the owner rule. */
class EngineTable {
  readonly live = new Map<string, { id: string; owner: string | undefined }>();
  readonly calls: Array<{ handle: string; owner: string | undefined }> = [];
  cancel(handle: string, owner: string | undefined): CancelResult | null {
    this.calls.push({ handle, owner });
    const request = this.live.get(handle);
    if (request === undefined || (request.owner !== undefined && request.owner !== owner)) return null;
    return { id: request.id, status: "cancelled", usage: usage(7) };
  }
}

describe.skipIf(redisServerBinary.skip)("the cancel relay over a real Redis", () => {
  let redis: RedisServer;
  const engines = { a: new EngineTable(), b: new EngineTable() };
  let a: RedisCancelRelay;
  let b: RedisCancelRelay;
  const relays: RedisCancelRelay[] = [];
  const logger = pino({ level: "silent" });
  const relayFor = (replica: "a" | "b" | "c", engine: EngineTable): RedisCancelRelay => {
    const relay = new RedisCancelRelay({ url: redis.url, replica: `replica-${replica}`, cancelLocally: (h, o) => engine.cancel(h, o), logger });
    relays.push(relay);
    relay.start();
    return relay;
  };
  const connected = (relay: RedisCancelRelay): boolean => relay.status().state === "connected";
  const status503 = { status: 503, code: "service_unavailable" };

  /** A plain connection to look at records and plant some; reconnects after the outage test. */
  let probe: ReturnType<typeof createClient>;

  beforeAll(async () => {
    redis = await redisServer();
    await redis.start();
    probe = createClient({ url: redis.url });
    probe.on("error", () => undefined);
    await probe.connect();
    a = relayFor("a", engines.a);
    b = relayFor("b", engines.b);
    await until(() => connected(a) && connected(b));
  });
  afterAll(async () => {
    await Promise.all(relays.map((r) => r.close()));
    probe.destroy();
    await redis.kill();
  });

  it("a cancel for a request on the other replica, by completion id or client id, gets that replica's engine's answer", async () => {
    const handles = { id: "chatcmpl-relay-1", clientRequestId: "Root=1-5f84c7a1;Sampled=1", owner: "key-a" };
    const registration = await a.register(handles);
    engines.a.live.set(handles.id, handles).set(handles.clientRequestId, handles);
    for (const handle of [handles.id, handles.clientRequestId]) {
      expect(await b.cancel(handle, "key-a", null)).toEqual({ id: handles.id, status: "cancelled", usage: usage(7) });
      expect(engines.a.calls.at(-1)).toEqual({ handle, owner: "key-a" });
    }
    engines.a.live.clear();
    registration.finished(usage(9));
  });

  it("owner-only across replicas: another key's cancel is a 404 (null) and never reaches the owner", async () => {
    const handles = { id: "chatcmpl-relay-2", clientRequestId: undefined, owner: "key-a" };
    const registration = await a.register(handles);
    engines.a.live.set(handles.id, handles);
    const before = engines.a.calls.length;
    expect(await b.cancel(handles.id, "key-b", null)).toBeNull();
    expect(await b.cancel(handles.id, undefined, null)).toBeNull();
    expect(engines.a.calls).toHaveLength(before);
    engines.a.live.clear();
    registration.finished(usage(1));
  });

  it("after the end: already_finished with the final usage from any replica, for its owner only; a withdrawn request is unknown", async () => {
    const handles = { id: "chatcmpl-relay-3", clientRequestId: "job-3", owner: "key-a" };
    (await a.register(handles)).finished(usage(12));
    // The finish is written in the background: ask once its record is there.
    await eventually(async () => (await probe.get(doneKey("job-3"))) !== null && (await probe.get(liveKey("job-3"))) === null);
    const before = engines.a.calls.length;
    for (const handle of ["job-3", handles.id]) {
      expect(await b.cancel(handle, "key-a", null)).toEqual({ id: handles.id, status: "already_finished", usage: usage(12) });
    }
    expect(await b.cancel(handles.id, "key-b", null)).toBeNull();
    // Answered from the record: the finished request's replica was not asked.
    expect(engines.a.calls).toHaveLength(before);

    const refused = { id: "chatcmpl-relay-4", clientRequestId: "job-4", owner: undefined };
    (await a.register(refused)).withdraw();
    await eventually(async () => (await probe.get(liveKey("job-4"))) === null);
    expect(await probe.get(doneKey("job-4"))).toBeNull();
    expect(await b.cancel("job-4", undefined, null)).toBeNull();
    expect(await b.cancel("never-seen", undefined, null)).toBeNull();
  });

  it("a client id that a live request holds on another replica is refused with 400 request_id_in_use, and free again once that request ends", async () => {
    const first = await a.register({ id: "chatcmpl-dup-1", clientRequestId: "dup", owner: undefined });
    const refused = await b.register({ id: "chatcmpl-dup-2", clientRequestId: "dup", owner: undefined }).then(
      () => null,
      (error: unknown) => error,
    );
    expect(refused).toBeInstanceOf(ApiError);
    expect(refused).toMatchObject({ status: 400, code: "request_id_in_use", param: "X-Request-Id" });
    // The refused one wrote nothing: the client id still leads to the first.
    engines.a.live.set("dup", { id: "chatcmpl-dup-1", owner: undefined });
    expect(await b.cancel("dup", undefined, null)).toMatchObject({ id: "chatcmpl-dup-1", status: "cancelled" });
    engines.a.live.clear();
    // Once the finish has resolved, the id is free on every replica.
    await first.finished(usage(2));
    const second = await b.register({ id: "chatcmpl-dup-3", clientRequestId: "dup", owner: undefined });
    await second.finished(usage(3));
  });

  it("a withdrawn request's client id is free on every replica once the withdraw resolves (a gateway retries its 503 at once)", async () => {
    for (let i = 0; i < 20; i++) {
      const refused = await a.register({ id: `chatcmpl-retry-${i}`, clientRequestId: `retry-${i}`, owner: undefined });
      await refused.withdraw();
      const retried = await b.register({ id: `chatcmpl-retried-${i}`, clientRequestId: `retry-${i}`, owner: undefined });
      await retried.finished(usage(1));
    }
  });

  it("the holder's local answer wins over a finished record elsewhere: a reused client id is cancelled where it runs now", async () => {
    // job-5 finished on b (b's engine remembers it) and now runs again on a.
    const now = { id: "chatcmpl-reuse-2", clientRequestId: "job-5", owner: undefined };
    const registration = await a.register(now);
    engines.a.live.set("job-5", now);
    const localFinished: CancelResult = { id: "chatcmpl-reuse-1", status: "already_finished", usage: usage(4) };
    expect(await b.cancel("job-5", undefined, localFinished)).toMatchObject({ id: "chatcmpl-reuse-2", status: "cancelled" });
    engines.a.live.clear();
    registration.finished(usage(5));
  });

  it("a holder that has left Redis (crashed, or cut off) makes the cancel a 503, not a 404", async () => {
    const c = relayFor("c", new EngineTable());
    await until(() => connected(c));
    await c.register({ id: "chatcmpl-orphan", clientRequestId: undefined, owner: undefined });
    await c.close();
    await expect(b.cancel("chatcmpl-orphan", undefined, null)).rejects.toMatchObject(status503);
  });

  it("garbage under a key is no record: the cancel is a 404, nobody is asked", async () => {
    await probe.set(liveKey("junk"), "{not json");
    await probe.set(doneKey("junk"), JSON.stringify({ id: "x", owner: null, usage: { promptTokens: -1 } }));
    expect(await b.cancel("junk", undefined, null)).toBeNull();
  });

  it("Redis killed: registration goes on at once, local answers stand, relayed cancels are 503; Redis back: relays work again without a restart", async () => {
    await redis.kill();
    await until(() => !connected(a) && !connected(b));
    expect(a.status()).toEqual({ state: "degraded", replica: "replica-a" });
    // Registered during the outage: known to a only, until the refresh writes it once Redis is back.
    const handles = { id: "chatcmpl-outage", clientRequestId: "during-outage", owner: undefined };
    const registration = await a.register(handles);
    engines.a.live.set("during-outage", handles);
    const local: CancelResult = { id: "chatcmpl-local", status: "already_finished", usage: usage(3) };
    expect(await b.cancel("anything", undefined, local)).toBe(local);
    await expect(b.cancel("during-outage", undefined, null)).rejects.toMatchObject(status503);

    await redis.start();
    await until(() => connected(a) && connected(b));
    expect(b.status()).toEqual({ state: "connected", replica: "replica-b" });
    // A fresh Redis holds nothing until a's reconnection refresh has written its live request again.
    let answer: CancelResult | null = null;
    while (answer === null) answer = await b.cancel("during-outage", undefined, null);
    expect(answer).toMatchObject({ id: "chatcmpl-outage", status: "cancelled" });
    engines.a.live.clear();
    registration.finished(usage(6));
  });
});

describe("the cancel relay with no Redis to reach", () => {
  it("starts degraded and never waits: registration resolves, local answers stand, a cancel that needs Redis is 503", async () => {
    // A port nothing listens on: every connection attempt is refused, and retried in the background.
    const url = `redis://127.0.0.1:${await freePort()}`;
    const relay = new RedisCancelRelay({ url, replica: "replica-alone", cancelLocally: () => null, logger: pino({ level: "silent" }) });
    relay.start();
    try {
      expect(relay.status()).toEqual({ state: "degraded", replica: "replica-alone" });
      const registration = await relay.register({ id: "chatcmpl-alone", clientRequestId: "alone", owner: undefined });
      registration.finished(usage(1));
      const local: CancelResult = { id: "chatcmpl-alone", status: "already_finished", usage: usage(1) };
      expect(await relay.cancel("alone", undefined, local)).toBe(local);
      await expect(relay.cancel("elsewhere", undefined, null)).rejects.toMatchObject({ status: 503, code: "service_unavailable" });
    } finally {
      await relay.close();
    }
  });
});

/** Resolves once the check holds, asked again after each answer: for what the relays write in the background. */
async function eventually(check: () => Promise<boolean>): Promise<void> {
  while (!(await check())) await new Promise((resolve) => setImmediate(resolve));
}
