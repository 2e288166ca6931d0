/**
 * How long a released row takes to leave, as the worker reports it (the
 * release-latency metric is built on this): a release that lands while a
 * step runs leaves at that step's end, because the row is in its run; one
 * that lands between steps leaves at once and is in no later run. Real
 * model, no thread.
 */
import { describe, expect, it } from "vitest";
import { wallClockMs } from "../../src/wall-clock.ts";
import { loadModelFolder } from "../../src/model/model-folder.ts";
import { loadTokenizer } from "../../src/model/tokenizer.ts";
import type { AdmitRow } from "../../src/worker/messages.ts";
import { ModelRunner } from "../../src/worker/model-runner.ts";
import { probePlacement } from "../../src/worker/placement-probe.ts";
import { RowStepper } from "../../src/worker/row-stepper.ts";
import { StructuredOutput } from "../../src/worker/structured-output.ts";
import { greedy } from "../support/engine.ts";

const folder = loadModelFolder("models/tiny-chat");

async function stepper(): Promise<RowStepper> {
  const runner = await ModelRunner.create(folder, { device: "cpu", threads: 1 });
  const probe = await probePlacement(runner);
  return new RowStepper(runner, loadTokenizer(folder), probe.placement, 512, StructuredOutput.forModel(folder, runner.io.logits.vocabSize));
}

const admit = (rowId: number): AdmitRow => ({
  rowId,
  promptIds: Int32Array.from([412, 300, 301, 302]),
  sampling: greedy,
  seed: 1,
  choiceIndex: 0,
  logprobs: null,
  maxTokens: 100,
  eosIds: [],
  constraint: null,
  toolTrigger: null,
  keepMarkers: [],
});

describe("RowStepper release timing", () => {
  it("a release during a step leaves at the step's end; between steps, at once; rows that end by themselves are not timed", async () => {
    const s = await stepper();
    s.apply([admit(1), admit(2), admit(3), { ...admit(4), maxTokens: 1 }], new Int32Array());
    const r1 = await s.step(1); // prefill; row 4 has its one token and ends
    expect([...r1.released]).toEqual([4]);
    expect(r1.releaseMs[0]).toBeNaN();
    await s.step(2); // rows 1-3 decode in one batch

    // During a step: the run is under way, the row is in it and leaves at its end.
    const step3Called = wallClockMs();
    const during = s.step(3);
    const sentAt = wallClockMs();
    s.apply([], Int32Array.of(2), sentAt);
    const r3 = await during;
    const stepEnded = wallClockMs();
    expect([...r3.rowIds].sort()).toEqual([1, 2, 3]);
    expect([...r3.released]).toEqual([2]);
    expect(r3.releaseMs[0]).toBeGreaterThanOrEqual(0);
    expect(r3.releaseMs[0]).toBeLessThanOrEqual(stepEnded - sentAt);
    expect(r3.releaseSteps[0]).toBeCloseTo(r3.releaseMs[0] / r3.stepMs, 9);

    // Between steps: it leaves at once, timed in steps of the step it waited on: step 3's
    // whole cycle, from its start to the row leaving. The next step runs without it.
    const before = wallClockMs();
    s.apply([], Int32Array.of(3), before);
    const after = wallClockMs();
    const r4 = await s.step(4);
    expect([...r4.rowIds]).toEqual([1]);
    expect([...r4.released]).toEqual([3]);
    expect(r4.releaseMs[0]).toBeGreaterThanOrEqual(0);
    expect(r4.releaseMs[0]).toBeLessThanOrEqual(after - before);
    // Divided by the cycle: at least step 3's run, at most everything since step 3 was called.
    expect(r4.releaseSteps[0]).toBeLessThanOrEqual(r4.releaseMs[0] / r3.stepMs + 1e-9);
    expect(r4.releaseSteps[0]).toBeGreaterThanOrEqual(r4.releaseMs[0] / (after - step3Called) - 1e-9);
    expect(r4.releaseSteps[0]).toBeLessThanOrEqual(1);
  });
});
