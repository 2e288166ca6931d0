/**
 * The scheduler alone, over a fake step runner (no threads, no model):
 * admission by batch size and KV budget in arrival order, eviction of ended
 * rows at the next step boundary, and failures.
 */
import { describe, expect, it } from "vitest";
import { EngineRequest } from "../../src/engine/engine-request.ts";
import { Scheduler, type StepRunner } from "../../src/engine/scheduler.ts";
import type { AdmitRow, StepResult } from "../../src/worker/messages.ts";
import { collect, textRequest } from "../support/engine.ts";

/** Gives every row it holds one token per step ("x"), and records what each step asked. */
class FakeRunner implements StepRunner {
  alive = true;
  readonly steps: Array<{ admit: number[]; release: number[]; held: number[] }> = [];
  private readonly held = new Set<number>();
  failNext = false;

  async step(admit: AdmitRow[], release: Int32Array): Promise<StepResult> {
    await Promise.resolve();
    for (const id of release) this.held.delete(id);
    for (const a of admit) this.held.add(a.rowId);
    this.steps.push({ admit: admit.map((a) => a.rowId), release: [...release], held: [...this.held] });
    if (this.failNext) throw new Error("boom");
    const rowIds = Int32Array.from(this.held);
    return { type: "stepDone", stepId: this.steps.length, rowIds, tokens: rowIds.map(() => 7), texts: [...rowIds].map(() => "x"), logprobs: [...rowIds].map(() => null) };
  }
}

let rowId = 1;
function request(id: string, maxTokens: number, promptLength = 4): EngineRequest {
  const r = new EngineRequest({
    id,
    clientRequestId: undefined,
    owner: undefined,
    valid: textRequest("p", { maxTokens }),
    eosIds: [2],
    nextRowId: () => rowId++,
    onAbandon: () => undefined,
    onEnded: () => undefined,
  });
  r.setPrompt(new Int32Array(promptLength), maxTokens);
  return r;
}

const idle = (s: Scheduler): Promise<void> => new Promise((resolve) => s.once("idle", resolve));

describe("scheduler", () => {
  it("admits up to the batch size in arrival order; later rows join as earlier ones finish", async () => {
    const scheduler = new Scheduler({ maxBatchSize: 2, maxTokensInFlight: 1000 });
    const runner = new FakeRunner();
    const [a, b, c] = [request("a", 2), request("b", 5), request("c", 1)];
    // Queued before the worker exists, so the first step sees all three.
    for (const r of [a, b, c]) scheduler.enqueue(r);
    const done = idle(scheduler);
    scheduler.addRunner(runner);
    const outs = await Promise.all([a, b, c].map((r) => collect(r.channel)));
    await done;
    expect(outs.map((o) => o.text[0])).toEqual(["xx", "xxxxx", "x"]);
    expect(runner.steps[0]!.admit).toEqual([a.rows[0]!.rowId, b.rows[0]!.rowId]);
    // a finishes after step 2; it is released and c admitted at step 3.
    expect(runner.steps[2]).toMatchObject({ admit: [c.rows[0]!.rowId], release: [a.rows[0]!.rowId] });
    expect(Math.max(...runner.steps.map((s) => s.held.length))).toBe(2);
    expect(runner.steps.at(-1)!.held).toEqual([]);
  });

  it("waits for KV room instead of overcommitting, and keeps first-come order", async () => {
    // a needs 4+10, b needs 4+10: together over the budget of 20.
    const scheduler = new Scheduler({ maxBatchSize: 8, maxTokensInFlight: 20 });
    const runner = new FakeRunner();
    const [a, b, small] = [request("a", 10), request("b", 10), request("small", 1)];
    for (const r of [a, b, small]) scheduler.enqueue(r);
    scheduler.addRunner(runner);
    await Promise.all([a, b, small].map((r) => collect(r.channel)));
    const admittedAt = (r: EngineRequest): number => runner.steps.findIndex((s) => s.admit.includes(r.rows[0]!.rowId));
    expect(admittedAt(a)).toBe(0);
    // b waits for a; small arrived after b and does not overtake it.
    expect(admittedAt(b)).toBeGreaterThanOrEqual(10);
    expect(admittedAt(small)).toBeGreaterThanOrEqual(admittedAt(b));
    for (const s of runner.steps) expect(s.held.length).toBeLessThanOrEqual(2);
  });

  it("a row whose request ended leaves at the next step; a cancelled queued row never reaches the runner", async () => {
    const scheduler = new Scheduler({ maxBatchSize: 1, maxTokensInFlight: 1000 });
    const runner = new FakeRunner();
    scheduler.addRunner(runner);
    const released: string[] = [];
    scheduler.on("released", (id) => released.push(id));
    const long = request("long", 1000);
    const queued = request("queued", 5);
    scheduler.enqueue(long);
    scheduler.enqueue(queued);
    queued.cancel();
    scheduler.wake();
    const it = long.channel[Symbol.asyncIterator]();
    await it.next();
    await it.next();
    long.cancel();
    const stepsAtCancel = runner.steps.length;
    await idle(scheduler);
    expect(released).toEqual(["queued", "long"]);
    const after = runner.steps.slice(stepsAtCancel);
    // At most the step already in flight, then the releasing step.
    expect(after.length).toBeLessThanOrEqual(2);
    expect(after.at(-1)!.release).toEqual([long.rows[0]!.rowId]);
    expect(runner.steps.flatMap((s) => s.admit)).not.toContain(queued.rows[0]!.rowId);
  });

  it("a failed step fails every row of that worker with a hidden-message 500", async () => {
    const scheduler = new Scheduler({ maxBatchSize: 4, maxTokensInFlight: 1000 });
    const runner = new FakeRunner();
    runner.failNext = true;
    const failures: Error[] = [];
    scheduler.on("stepFailed", (e) => failures.push(e));
    scheduler.addRunner(runner);
    const r = request("r", 10);
    scheduler.enqueue(r);
    const out = await collect(r.channel);
    const error = out.events.at(-1)!;
    expect(error.type).toBe("error");
    expect(error.type === "error" && error.error.status).toBe(500);
    expect(error.type === "error" && error.error.message).not.toContain("boom");
    expect(failures.map((f) => f.message)).toEqual(["boom"]);
  });
});
