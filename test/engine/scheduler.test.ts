/**
 * The scheduler alone, over a fake step runner (no threads, no model):
 * admission by batch size and KV budget in arrival order, eviction of ended
 * rows at the next step boundary, and failures.
 */
import { describe, expect, it } from "vitest";
import { EngineRequest } from "../../src/engine/engine-request.ts";
import { EventEmitter } from "node:events";
import { Scheduler, type StepRunner, type StepRunnerEvents } from "../../src/engine/scheduler.ts";
import { ROW_END, type AdmitRow } from "../../src/worker/messages.ts";
import { collect, textRequest } from "../support/engine.ts";

/**
 * A worker that steps on its own while it holds rows, like the real one:
 * every held row gets token 7 ("x") per step; control messages land at the
 * next boundary; rows end by themselves at their max tokens.
 */
class FakeRunner implements StepRunner {
  alive = true;
  readonly steps = new EventEmitter<StepRunnerEvents>();
  readonly log: Array<{ admit: number[]; release: number[]; held: number[] }> = [];
  private readonly held = new Map<number, { generated: number; maxTokens: number }>();
  private pending: Array<{ admit: AdmitRow[]; release: Int32Array }> = [];
  private looping = false;
  failNext = false;

  send(admit: AdmitRow[], release: Int32Array): void {
    this.pending.push({ admit, release });
    if (!this.looping) void this.loop();
  }

  private async loop(): Promise<void> {
    this.looping = true;
    let stepId = 0;
    while (this.held.size > 0 || this.pending.length > 0) {
      await new Promise((resolve) => setImmediate(resolve));
      const released: number[] = [];
      const admitted: number[] = [];
      const releasedByMessage: number[] = [];
      for (const { admit, release } of this.pending.splice(0)) {
        for (const id of release) if (this.held.delete(id)) releasedByMessage.push(id);
        for (const a of admit) {
          this.held.set(a.rowId, { generated: 0, maxTokens: a.maxTokens });
          admitted.push(a.rowId);
        }
      }
      released.push(...releasedByMessage);
      this.log.push({ admit: admitted, release: releasedByMessage, held: [...this.held.keys()] });
      if (this.failNext) {
        this.failNext = false;
        this.held.clear();
        this.steps.emit("failed", new Error("boom"));
        continue;
      }
      const rowIds = Int32Array.from(this.held.keys());
      const ends = new Uint8Array(rowIds.length);
      [...this.held].forEach(([id, row], i) => {
        if (++row.generated < row.maxTokens) return;
        ends[i] = ROW_END.length;
        this.held.delete(id);
        released.push(id);
      });
      this.steps.emit("result", {
        type: "stepDone",
        stepId: ++stepId,
        rowIds,
        tokens: rowIds.map(() => 7),
        ends,
        texts: [...rowIds].map(() => "x"),
        logprobs: [...rowIds].map(() => null),
        released: Int32Array.from(released),
        // Rows released by message took 0.5 ms = 0.25 steps here; rows that ended by themselves are NaN.
        releaseMs: Float64Array.from(released, (id) => (releasedByMessage.includes(id) ? 0.5 : Number.NaN)),
        releaseSteps: Float64Array.from(released, (id) => (releasedByMessage.includes(id) ? 0.25 : Number.NaN)),
        stepMs: 2,
      });
    }
    this.looping = false;
  }
}

let rowId = 1;
/** A request as placed, before its prompt is encoded: its rows wait, not admissible yet. */
function encodingRequest(id: string, maxTokens: number): EngineRequest {
  return new EngineRequest({
    id,
    clientRequestId: undefined,
    owner: undefined,
    valid: textRequest("p", { maxTokens }),
    decoding: { constraint: null, toolTrigger: null },
    nextRowId: () => rowId++,
    onAbandon: () => undefined,
    onEnded: () => undefined,
  });
}

/** A request whose prompt is encoded: admissible. */
function request(id: string, maxTokens: number, promptLength = 4): EngineRequest {
  const r = encodingRequest(id, maxTokens);
  r.setPrompt(new Int32Array(promptLength), maxTokens);
  return r;
}

const idle = (s: Scheduler): Promise<void> => new Promise((resolve) => s.once("idle", resolve));

describe("scheduler", () => {
  it("admits up to the batch size in arrival order; later rows join as earlier ones finish", async () => {
    const scheduler = new Scheduler({ maxBatchSize: 2, maxTokensInFlight: 1000, eosIds: [2] });
    const runner = new FakeRunner();
    const [a, b, c] = [request("a", 2), request("b", 5), request("c", 1)];
    scheduler.addRunner(runner);
    const done = idle(scheduler);
    // Queued before the worker's first step, so that step sees all that fit.
    for (const r of [a, b, c]) scheduler.enqueue(r, runner);
    const outs = await Promise.all([a, b, c].map((r) => collect(r.channel)));
    await done;
    expect(outs.map((o) => o.text[0])).toEqual(["xx", "xxxxx", "x"]);
    expect(runner.log[0].admit).toEqual([a.rows[0].rowId, b.rows[0].rowId]);
    // a ends by itself after its 2nd token (no release message needed); c takes its place at step 3.
    expect(runner.log[2]).toMatchObject({ admit: [c.rows[0].rowId], release: [] });
    expect(runner.log[2].held).not.toContain(a.rows[0].rowId);
    expect(Math.max(...runner.log.map((s) => s.held.length))).toBe(2);
    expect(scheduler.runningRows).toBe(0);
  });

  it("waits for KV room instead of overcommitting, and keeps first-come order", async () => {
    // a needs 4+10, b needs 4+10: together over the budget of 20.
    const scheduler = new Scheduler({ maxBatchSize: 8, maxTokensInFlight: 20, eosIds: [2] });
    const runner = new FakeRunner();
    const [a, b, small] = [request("a", 10), request("b", 10), request("small", 1)];
    scheduler.addRunner(runner);
    for (const r of [a, b, small]) scheduler.enqueue(r, runner);
    await Promise.all([a, b, small].map((r) => collect(r.channel)));
    const admittedAt = (r: EngineRequest): number => runner.log.findIndex((s) => s.admit.includes(r.rows[0].rowId));
    expect(admittedAt(a)).toBe(0);
    // b waits for a; small arrived after b and does not overtake it.
    expect(admittedAt(b)).toBeGreaterThanOrEqual(10);
    expect(admittedAt(small)).toBeGreaterThanOrEqual(admittedAt(b));
    for (const s of runner.log) expect(s.held.length).toBeLessThanOrEqual(2);
  });

  it("a row whose request ended leaves at the next step; a cancelled queued row never reaches the runner", async () => {
    const scheduler = new Scheduler({ maxBatchSize: 1, maxTokensInFlight: 1000, eosIds: [2] });
    const runner = new FakeRunner();
    scheduler.addRunner(runner);
    const released: string[] = [];
    scheduler.on("released", (id) => released.push(id));
    const left: Array<[number, number]> = [];
    scheduler.on("rowLeft", (ms, steps) => left.push([ms, steps]));
    const long = request("long", 1000);
    const queued = request("queued", 5);
    scheduler.enqueue(long, runner);
    scheduler.enqueue(queued, runner);
    queued.cancel();
    scheduler.wake();
    const it = long.channel[Symbol.asyncIterator]();
    await it.next();
    await it.next();
    long.cancel();
    const stepsAtCancel = runner.log.length;
    await idle(scheduler);
    expect(released).toEqual(["queued", "long"]);
    const after = runner.log.slice(stepsAtCancel);
    // The release lands at the next step boundary: at most the step already under way runs first.
    const at = after.findIndex((s) => s.release.includes(long.rows[0].rowId));
    expect(at).toBeGreaterThanOrEqual(0);
    expect(at).toBeLessThanOrEqual(1);
    expect(after[at].held).toEqual([]);
    expect(runner.log.flatMap((s) => s.admit)).not.toContain(queued.rows[0].rowId);
    // Only the row released by message is timed (the queued one never reached the worker).
    expect(left).toEqual([[0.5, 0.25]]);
  });

  it("a request waits, first in line, until its prompt is encoded; then it is admitted", async () => {
    const scheduler = new Scheduler({ maxBatchSize: 4, maxTokensInFlight: 1000, eosIds: [2] });
    const runner = new FakeRunner();
    scheduler.addRunner(runner);
    const first = encodingRequest("first", 2);
    const second = request("second", 2);
    scheduler.enqueue(first, runner);
    scheduler.enqueue(second, runner);
    // First come, first served: the encoded one does not overtake the one still encoding.
    expect(runner.log).toEqual([]);
    expect(scheduler.queuedRows).toBe(2);
    first.setPrompt(new Int32Array(4), 2);
    scheduler.wake();
    const outs = await Promise.all([first, second].map((r) => collect(r.channel)));
    expect(outs.map((o) => o.text[0])).toEqual(["xx", "xx"]);
    expect(runner.log[0].admit).toEqual([first.rows[0].rowId, second.rows[0].rowId]);
  });

  it("a removed worker hands back the rows it held and the encoded requests that waited for it", async () => {
    const scheduler = new Scheduler({ maxBatchSize: 1, maxTokensInFlight: 1000, eosIds: [2] });
    const dying = new FakeRunner();
    const other = new FakeRunner();
    scheduler.addRunner(dying);
    scheduler.addRunner(other);
    const held = request("held", 5);
    const waiting = request("waiting", 3);
    const encoding = encodingRequest("encoding", 3);
    for (const r of [held, waiting, encoding]) scheduler.enqueue(r, dying);
    expect(scheduler.load(dying)).toBe(3);
    const removed = scheduler.removeRunner(dying);
    expect(removed.held.map((row) => row.request.id)).toEqual(["held"]);
    // The one still encoding is not handed back: its encode fails with the worker, and so does its start().
    expect(removed.waiting.map((r) => r.id)).toEqual(["waiting"]);
    expect(scheduler.load(dying)).toBe(Number.POSITIVE_INFINITY);
    scheduler.enqueue(waiting, other);
    expect((await collect(waiting.channel)).text[0]).toBe("xxx");
    expect(other.log[0].admit).toEqual([waiting.rows[0].rowId]);
  });

  it("a failed step fails every row of that worker with a hidden-message 500", async () => {
    const scheduler = new Scheduler({ maxBatchSize: 4, maxTokensInFlight: 1000, eosIds: [2] });
    const runner = new FakeRunner();
    runner.failNext = true;
    const failures: Error[] = [];
    scheduler.on("stepFailed", (e) => failures.push(e));
    scheduler.addRunner(runner);
    const r = request("r", 10);
    scheduler.enqueue(r, runner);
    const out = await collect(r.channel);
    const error = out.events.at(-1)!;
    expect(error.type).toBe("error");
    expect(error.type === "error" && error.error.status).toBe(500);
    expect(error.type === "error" && error.error.message).not.toContain("boom");
    expect(failures.map((f) => f.message)).toEqual(["boom"]);
  });

  it("times each request once (queued, first row in a batch, first token) and each later token of a choice once", async () => {
    const scheduler = new Scheduler({ maxBatchSize: 2, maxTokensInFlight: 1000, eosIds: [2] });
    const runner = new FakeRunner();
    scheduler.addRunner(runner);
    const scheduled: string[] = [];
    const firstTokens: string[] = [];
    let accepted = 0;
    const gaps: number[] = [];
    scheduler.on("scheduled", (r) => scheduled.push(r.id));
    scheduler.on("firstToken", (r) => firstTokens.push(r.id));
    scheduler.on("tokens", (n, gapsMs) => {
      accepted += n;
      gaps.push(...gapsMs);
    });
    const rowIds = (): number => rowId++;
    const made = (id: string, init: Parameters<typeof textRequest>[1]): EngineRequest => {
      const r = new EngineRequest({ id, clientRequestId: undefined, owner: undefined, valid: textRequest("p", init), decoding: { constraint: null, toolTrigger: null }, nextRowId: rowIds, onAbandon: () => undefined, onEnded: () => undefined });
      r.setPrompt(new Int32Array(4), init?.maxTokens ?? 1);
      return r;
    };
    // Two choices of 3 tokens; one choice ended by the stop string "xx" at its 2nd token though the
    // worker keeps stepping it to 6 until the release lands; one request cancelled while it waits.
    const pair = made("pair", { maxTokens: 3, n: 2 });
    const stopped = made("stopped", { maxTokens: 6, stop: ["xx"] });
    const cancelled = made("cancelled", { maxTokens: 4 });
    for (const r of [pair, stopped, cancelled]) scheduler.enqueue(r, runner);
    cancelled.cancel();
    scheduler.wake();
    await Promise.all([pair, stopped].map((r) => collect(r.channel)));
    await idle(scheduler);
    // The pair fills the batch first; "stopped" enters when it leaves; "cancelled" never does.
    expect(scheduled).toEqual(["pair", "stopped"]);
    expect(firstTokens).toEqual(["pair", "stopped"]);
    // What usage counts: 3 + 3 + 2 (the tokens after the stop string are dropped, not counted or timed).
    expect(accepted).toBe(pair.usage().completionTokens + stopped.usage().completionTokens);
    expect(accepted).toBe(8);
    // One gap per token after its choice's first: 2 + 2 + 1.
    expect(gaps).toHaveLength(5);
    for (const gap of gaps) expect(gap).toBeGreaterThanOrEqual(0);
    for (const r of [pair, stopped]) {
      expect(r.scheduledAtMs).toBeGreaterThanOrEqual(r.queuedAtMs);
      expect(r.firstTokenAtMs).toBeGreaterThanOrEqual(r.scheduledAtMs);
    }
    expect(Number.isNaN(cancelled.scheduledAtMs)).toBe(true);
    expect(scheduler.kvTokensInUse).toBe(0);
  });

  it("counts the KV positions the rows on a worker hold and the ones admission promised them", async () => {
    const scheduler = new Scheduler({ maxBatchSize: 4, maxTokensInFlight: 1000, eosIds: [2] });
    const runner = new FakeRunner();
    scheduler.addRunner(runner);
    const r = request("r", 50, 7);
    scheduler.enqueue(r, runner);
    expect(scheduler.kvTokensReserved).toBe(57);
    const it = r.channel[Symbol.asyncIterator]();
    await it.next();
    await it.next();
    // Two tokens in: prompt 7 + 2 generated (the steps run on; read both figures in one turn).
    const generated = r.rows[0].choice.generated;
    expect(generated).toBeGreaterThanOrEqual(2);
    expect(scheduler.kvTokensInUse).toBe(7 + generated);
    r.cancel();
    scheduler.wake();
    await idle(scheduler);
    expect([scheduler.kvTokensInUse, scheduler.kvTokensReserved]).toEqual([0, 0]);
  });
});
