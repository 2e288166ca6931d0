/**
 * Cancellation is one idempotent path: the cancel call, a consumer that
 * stops iterating and an aborted signal all end the request at once and
 * free its row at the next step boundary, while queued, in prefill or in
 * decode. Real model, real worker thread.
 */
import { once } from "node:events";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { OnnxEngine } from "../../src/engine/onnx-engine.ts";
import { collect, introspect, nextId, startEngine, textRequest, whenReleased } from "../support/engine.ts";
import { fixturePath, haveFixtures } from "../support/fixtures.ts";

describe.skipIf(!haveFixtures)("engine cancellation", () => {
  let engine: OnnxEngine;
  beforeAll(async () => {
    engine = await startEngine(fixturePath("tiny-random-LlamaForCausalLM-fp32-reconstructed"), { maxBatchSize: 1 });
  });
  afterAll(() => engine.close(0));

  it("cancel during decode ends the stream with no further tokens, and frees the row", async () => {
    const id = nextId();
    const gen = await engine.start(textRequest("he was on", { maxTokens: 1000 }), { id, signal: new AbortController().signal });
    const freed = whenReleased(engine, id);
    const events = [];
    let deltas = 0;
    for await (const e of gen.events) {
      events.push(e);
      if (e.type === "delta" && ++deltas === 3) {
        const result = engine.cancel(id);
        expect(result?.status).toBe("cancelled");
        expect(result?.usage.completionTokens).toBeGreaterThanOrEqual(3);
      }
    }
    const afterCancel = events.slice(events.findIndex((e) => e.type === "delta") + 3);
    expect(afterCancel.map((e) => e.type)).toEqual(["finish", "end"]);
    expect(afterCancel[0]).toMatchObject({ finishReason: "cancelled" });
    await freed;
    expect(engine.health().running).toBe(0);
    expect(engine.cancel(id)).toMatchObject({ status: "already_finished", id });
  });

  it("cancel while queued: the request never reaches the worker", async () => {
    const blockerId = nextId();
    const blocker = await engine.start(textRequest("he was on", { maxTokens: 300 }), { id: blockerId, signal: new AbortController().signal });
    const queuedId = nextId();
    const queued = await engine.start(textRequest("in the end", { maxTokens: 50 }), {
      id: queuedId,
      clientRequestId: `client-${queuedId}`,
      signal: new AbortController().signal,
    });
    expect(engine.health().queued).toBe(1);
    const freed = whenReleased(engine, queuedId);
    expect(engine.cancel(`client-${queuedId}`)).toMatchObject({ id: queuedId, status: "cancelled", usage: { completionTokens: 0 } });
    const out = await collect(queued.events);
    expect(out.finish).toEqual(["cancelled"]);
    expect(out.text).toEqual([]);
    await freed;
    expect(engine.health().queued).toBe(0);
    engine.cancel(blockerId);
    await collect(blocker.events);
  });

  it("an aborted signal (client gone) cancels; a consumer that stops iterating cancels", async () => {
    const controller = new AbortController();
    const idA = nextId();
    const a = await engine.start(textRequest("he was on", { maxTokens: 1000 }), { id: idA, signal: controller.signal });
    const freedA = whenReleased(engine, idA);
    const it = a.events[Symbol.asyncIterator]();
    await it.next();
    controller.abort();
    await freedA;
    expect(engine.cancel(idA)?.status).toBe("already_finished");

    const idB = nextId();
    const b = await engine.start(textRequest("he was on", { maxTokens: 1000 }), { id: idB, signal: new AbortController().signal });
    const freedB = whenReleased(engine, idB);
    for await (const e of b.events) if (e.type === "delta") break;
    await freedB;
    expect(introspect(engine).activeRequestIds()).not.toContain(idB);
  });

  it("unknown ids are unknown; client ids in use conflict", async () => {
    expect(engine.cancel("chatcmpl-nope")).toBeNull();
    const id = nextId();
    const g = await engine.start(textRequest("he was on", { maxTokens: 500 }), { id, clientRequestId: "dup-1", signal: new AbortController().signal });
    await expect(engine.start(textRequest("x"), { id: nextId(), clientRequestId: "dup-1", signal: new AbortController().signal })).rejects.toMatchObject({
      status: 409,
    });
    engine.cancel("dup-1");
    await collect(g.events);
    if (engine.health().running > 0) await once(introspect(engine).events, "released");
  });

  it("owners: another API key cannot cancel", async () => {
    const id = nextId();
    const g = await engine.start(textRequest("he was on", { maxTokens: 500 }), { id, owner: "key-a", signal: new AbortController().signal });
    expect(engine.cancel(id, "key-b")).toBeNull();
    expect(engine.cancel(id, "key-a")?.status).toBe("cancelled");
    await collect(g.events);
  });
});
