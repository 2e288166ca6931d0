/**
 * Cancellation is one idempotent path: the cancel call, a consumer that
 * stops iterating and an aborted signal all end the request at once and
 * free its row at the next step boundary, while queued, in prefill or in
 * decode. The shipped tiny-chat model in a real worker thread; rows that
 * must keep running are greedy with EOS banned, so only max_tokens (far
 * away) or the cancel can end them.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { OnnxEngine } from "../../src/engine/onnx-engine.ts";
import { collect, introspect, nextId, startEngine, whenReleased } from "../support/engine.ts";
import { tinyChat } from "../support/fixtures.ts";
import { until } from "../support/live-server.ts";
import { chatRequest, noEosRequest } from "../support/requests.ts";

/** Prompt (33 tokens) + 450 fits tiny-chat's 512-token context. */
const LONG = 450;
const QUESTION = "What is 123 + 456?";
const running = (maxTokens = LONG) => noEosRequest(tinyChat, QUESTION, maxTokens);
const signal = (): AbortSignal => new AbortController().signal;

describe("engine cancellation", () => {
  let engine: OnnxEngine;
  beforeAll(async () => {
    engine = await startEngine(tinyChat, { maxBatchSize: 1 });
  });
  afterAll(() => engine.close(0));

  it("cancel during decode ends the stream with no further tokens, and frees the row", async () => {
    const id = nextId();
    const gen = await engine.start(running(), { id, signal: signal() });
    const freed = whenReleased(engine, id);
    const events = [];
    let deltas = 0;
    let cancelledAt = 0;
    for await (const e of gen.events) {
      events.push(e);
      if (e.type === "delta" && ++deltas === 3) {
        const result = engine.cancel(id);
        expect(result?.status).toBe("cancelled");
        expect(result?.usage.completionTokens).toBeGreaterThanOrEqual(3);
        cancelledAt = result!.usage.completionTokens;
      }
    }
    const afterCancel = events.slice(events.findIndex((e) => e.type === "delta") + 3);
    expect(afterCancel.map((e) => e.type)).toEqual(["finish", "end"]);
    expect(afterCancel[0]).toMatchObject({ finishReason: "cancelled" });
    // No token counted after the cancel: the usage at the end is the usage at the cancel.
    expect(afterCancel[1]).toMatchObject({ usage: { completionTokens: cancelledAt } });
    await freed;
    expect(engine.health().running).toBe(0);
    expect(engine.cancel(id)).toMatchObject({ status: "already_finished", id, usage: { completionTokens: cancelledAt } });
  });

  it("cancel while queued: the request never reaches the worker", async () => {
    const blockerId = nextId();
    const blocker = await engine.start(running(), { id: blockerId, signal: signal() });
    const blockerFreed = whenReleased(engine, blockerId);
    await until(() => engine.health().running === 1);
    const queuedId = nextId();
    const queued = await engine.start(chatRequest(QUESTION, { maxTokens: 50 }), {
      id: queuedId,
      clientRequestId: `client-${queuedId}`,
      signal: signal(),
    });
    expect(engine.health().queued).toBe(1);
    const freed = whenReleased(engine, queuedId);
    expect(engine.cancel(`client-${queuedId}`)).toMatchObject({ id: queuedId, status: "cancelled", usage: { completionTokens: 0 } });
    const out = await collect(queued.events);
    expect(out.finish).toEqual(["cancelled"]);
    expect(out.text).toEqual([]);
    await freed;
    expect(engine.health().queued).toBe(0);
    // The blocker held the only row throughout: it is still running when cancelled.
    expect(engine.cancel(blockerId)?.status).toBe("cancelled");
    expect((await collect(blocker.events)).finish).toEqual(["cancelled"]);
    await blockerFreed;
  });

  it("an aborted signal (client gone) cancels; a consumer that stops iterating cancels", async () => {
    const controller = new AbortController();
    const idA = nextId();
    const a = await engine.start(running(), { id: idA, signal: controller.signal });
    const freedA = whenReleased(engine, idA);
    const it = a.events[Symbol.asyncIterator]();
    expect((await it.next()).value).toMatchObject({ type: "delta" });
    controller.abort();
    await freedA;
    const doneA = engine.cancel(idA);
    expect(doneA?.status).toBe("already_finished");
    // Ended by the abort, far from max_tokens (EOS is banned, so nothing else could end it).
    expect(doneA!.usage.completionTokens).toBeLessThan(LONG / 2);

    const idB = nextId();
    const b = await engine.start(running(), { id: idB, signal: signal() });
    const freedB = whenReleased(engine, idB);
    for await (const e of b.events) if (e.type === "delta") break;
    await freedB;
    expect(introspect(engine).activeRequestIds()).not.toContain(idB);
    expect(engine.cancel(idB)!.usage.completionTokens).toBeLessThan(LONG / 2);
  });

  it("unknown ids are unknown; a client id in use is refused with 400 request_id_in_use", async () => {
    expect(engine.cancel("chatcmpl-nope")).toBeNull();
    const id = nextId();
    const g = await engine.start(running(), { id, clientRequestId: "dup-1", signal: signal() });
    const freed = whenReleased(engine, id);
    await expect(engine.start(chatRequest("Hello!"), { id: nextId(), clientRequestId: "dup-1", signal: signal() })).rejects.toMatchObject({
      status: 400,
      code: "request_id_in_use",
      param: "X-Request-Id",
    });
    expect(engine.cancel("dup-1")?.status).toBe("cancelled");
    expect((await collect(g.events)).finish).toEqual(["cancelled"]);
    await freed;
  });

  it("owners: another API key cannot cancel", async () => {
    const id = nextId();
    const g = await engine.start(running(), { id, owner: "key-a", signal: signal() });
    const freed = whenReleased(engine, id);
    expect(engine.cancel(id, "key-b")).toBeNull();
    expect(engine.cancel(id)).toBeNull();
    expect(engine.cancel(id, "key-a")?.status).toBe("cancelled");
    expect((await collect(g.events)).finish).toEqual(["cancelled"]);
    await freed;
    expect(engine.cancel(id, "key-b")).toBeNull();
    expect(engine.cancel(id, "key-a")?.status).toBe("already_finished");
  });
});
