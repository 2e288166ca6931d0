/**
 * How the HTTP layer uses the cancel relay (src/cluster/cancel-relay.ts),
 * with a fake engine and a scripted relay: a generation is registered
 * before the engine admits it, withdrawn when refused, finished with its
 * final usage; the stop endpoint asks the relay only when its own engine
 * did not cancel, and shows the relay's 503; /ready reports the relay.
 */
import pino from "pino";
import { describe, expect, it } from "vitest";
import type { CancelRelay, Registration, RelayStatus, RequestHandles } from "../../src/cluster/cancel-relay.ts";
import type { Usage } from "../../src/domain.ts";
import type { CancelResult } from "../../src/engine/engine.ts";
import { cancelRelayUnavailable, queueFull, requestIdInUse } from "../../src/errors.ts";
import { buildApp } from "../../src/http/app.ts";
import { FakeEngine, USAGE, WIRE_USAGE } from "./fake-engine.ts";
import { chatBody, testConfig } from "./helpers.ts";

class ScriptedRelay implements CancelRelay {
  readonly log: string[] = [];
  registerError: Error | null = null;
  answer: (handle: string, owner: string | undefined, local: CancelResult | null) => Promise<CancelResult | null> = async (_h, _o, local) => local;
  state: RelayStatus = { state: "connected", replica: "replica-x" };

  async register(handles: RequestHandles): Promise<Registration> {
    this.log.push(`register ${handles.id} ${handles.clientRequestId ?? "-"} ${handles.owner ?? "-"}`);
    if (this.registerError !== null) throw this.registerError;
    return {
      finished: async (usage: Usage) => void this.log.push(`finished ${handles.id} ${usage.completionTokens}`),
      withdraw: async () => void this.log.push(`withdraw ${handles.id}`),
    };
  }
  cancel(handle: string, owner: string | undefined, local: CancelResult | null): Promise<CancelResult | null> {
    this.log.push(`cancel ${handle} ${owner ?? "-"} ${local?.status ?? "null"}`);
    return this.answer(handle, owner, local);
  }
  status(): RelayStatus {
    return this.state;
  }
  async close(): Promise<void> {}
}

function setup(apiKeys: string[] = []) {
  const engine = new FakeEngine();
  const relay = new ScriptedRelay();
  const app = buildApp(testConfig({ apiKeys }), engine, { logger: pino({ level: "silent" }), relay });
  return { app, engine, relay };
}

describe("generation requests and the relay", () => {
  it("registers the handles before the engine admits, then finishes with the final usage", async () => {
    const { app, engine, relay } = setup(["k1"]);
    const res = await app.inject({ method: "POST", url: "/v1/chat/completions", payload: chatBody(), headers: { authorization: "Bearer k1", "x-request-id": "job-1" } });
    expect(res.statusCode).toBe(200);
    const { id, owner } = engine.starts[0].options;
    expect(owner).toMatch(/^key-[0-9a-f]{16}$/);
    expect(relay.log).toEqual([`register ${id} job-1 ${owner}`, `finished ${id} ${USAGE.completionTokens}`]);
  });

  it("a request the engine refuses is withdrawn; one the relay refuses never reaches the engine", async () => {
    const { app, engine, relay } = setup();
    engine.startError = queueFull(1);
    expect((await app.inject({ method: "POST", url: "/v1/chat/completions", payload: chatBody() })).statusCode).toBe(429);
    expect(relay.log).toHaveLength(2);
    expect(relay.log[1]).toMatch(/^withdraw chatcmpl-/);

    engine.startError = null;
    relay.registerError = requestIdInUse("dup");
    const dup = await app.inject({ method: "POST", url: "/v1/chat/completions", payload: chatBody(), headers: { "x-request-id": "dup" } });
    expect(dup.statusCode).toBe(400);
    expect(dup.json().error.code).toBe("request_id_in_use");
    expect(engine.starts).toHaveLength(0);
  });
});

describe("the stop endpoint and the relay", () => {
  const cancelled: CancelResult = { id: "chatcmpl-here", status: "cancelled", usage: USAGE };

  it("a request cancelled by this replica's engine is answered without the relay", async () => {
    const { app, engine, relay } = setup();
    engine.cancelResult = () => cancelled;
    const res = await app.inject({ method: "POST", url: "/v1/chat/completions/chatcmpl-here/cancel" });
    expect(res.json()).toEqual({ id: "chatcmpl-here", object: "chat.completion.cancellation", status: "cancelled", usage: WIRE_USAGE });
    expect(relay.log).toEqual([]);
  });

  it("otherwise the relay answers, given the local answer: the other replica's result, a finished record, or 404", async () => {
    const { app, engine, relay } = setup();
    relay.answer = async (handle) => (handle === "elsewhere" ? { ...cancelled, id: "chatcmpl-there" } : null);
    const there = await app.inject({ method: "POST", url: "/v1/completions/elsewhere/cancel" });
    expect(there.json()).toEqual({ id: "chatcmpl-there", object: "text_completion.cancellation", status: "cancelled", usage: WIRE_USAGE });
    expect(relay.log).toEqual(["cancel elsewhere - null"]);

    engine.cancelResult = () => ({ ...cancelled, status: "already_finished" });
    relay.answer = async (_h, _o, local) => local;
    expect((await app.inject({ method: "POST", url: "/v1/chat/completions/done-here/cancel" })).json().status).toBe("already_finished");
    expect(relay.log.at(-1)).toBe("cancel done-here - already_finished");

    engine.cancelResult = () => null;
    const unknown = await app.inject({ method: "POST", url: "/v1/chat/completions/nobody/cancel" });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json().error.code).toBe("not_found");
  });

  it("a relay that cannot reach the holder is a 503 with Retry-After and a message that says so", async () => {
    const { app, relay } = setup();
    relay.answer = async (handle) => {
      throw cancelRelayUnavailable(handle, "Redis, which tells which replica holds it, cannot be reached");
    };
    const res = await app.inject({ method: "POST", url: "/v1/chat/completions/far-away/cancel" });
    expect(res.statusCode).toBe(503);
    expect(res.headers["retry-after"]).toBe("1");
    expect(res.json().error).toMatchObject({ type: "server_error", code: "service_unavailable" });
    expect(res.json().error.message).toMatch(/^Cannot cancel 'far-away' from this replica: Redis, which tells which replica holds it, cannot be reached/);
  });
});

describe("/ready and the relay", () => {
  it("reports the relay's state; a degraded relay does not make the replica unready", async () => {
    const { app, relay } = setup();
    expect((await app.inject({ method: "GET", url: "/ready" })).json().cancelRelay).toEqual({ state: "connected", replica: "replica-x" });
    relay.state = { state: "degraded", replica: "replica-x" };
    const degraded = await app.inject({ method: "GET", url: "/ready" });
    expect(degraded.statusCode).toBe(200);
    expect(degraded.json()).toMatchObject({ status: "ready", cancelRelay: { state: "degraded", replica: "replica-x" } });
  });

  it("without --redis-url /ready is as it was: no relay field", async () => {
    const engine = new FakeEngine();
    const app = buildApp(testConfig(), engine, { logger: pino({ level: "silent" }) });
    const body = (await app.inject({ method: "GET", url: "/ready" })).json();
    expect(body).toEqual({ status: "ready", ...engine.healthState });
  });
});
