/**
 * WorkerRow owns two finish rules: EOS and the token budget end the row
 * right after the token is drawn, and the verdict travels with the token.
 * Greedy rows over hand-made logits: the token drawn is the argmax.
 */
import { describe, expect, it } from "vitest";
import { ROW_END, type AdmitRow } from "../../src/worker/messages.ts";
import { WorkerRow, type TokenTexts } from "../../src/worker/worker-row.ts";
import { greedy } from "../support/engine.ts";

const VOCAB = 8;
const EOS = 7;
const texts: TokenTexts = {
  decode: (ids) => ids.map((id) => String.fromCharCode(97 + id)).join(""),
  tokenText: (id) => `<${id}>`,
};

function row(overrides: Partial<AdmitRow> = {}): WorkerRow {
  const admit: AdmitRow = {
    rowId: 1,
    promptIds: Int32Array.of(0, 1),
    sampling: greedy,
    seed: 1,
    choiceIndex: 0,
    logprobs: null,
    maxTokens: 3,
    eosIds: [EOS, 6],
    constraint: null,
    toolTrigger: null,
    keepMarkers: [],
    ...overrides,
  };
  return new WorkerRow(admit, { past: {}, length: 0 }, texts);
}

/** Logits whose argmax is `id`. */
const favouring = (id: number): Float32Array => {
  const logits = new Float32Array(VOCAB);
  logits[id] = 5;
  return logits;
};

describe("WorkerRow: the finish rules it owns", () => {
  it("goes on until its token budget, and the last allowed token carries the length verdict", () => {
    const r = row({ maxTokens: 3 });
    expect([2, 3, 4].map((id) => r.next(favouring(id)).end)).toEqual([ROW_END.continues, ROW_END.continues, ROW_END.length]);
    expect(r.ended).toBe(true);
    expect(r.generated).toBe(3);
  });

  it("any EOS id ends the row with the EOS verdict", () => {
    for (const eos of [EOS, 6]) {
      const r = row();
      expect(r.next(favouring(2)).end).toBe(ROW_END.continues);
      expect(r.next(favouring(eos))).toMatchObject({ token: eos, end: ROW_END.eos });
      expect(r.ended).toBe(true);
    }
  });

  it("EOS on the last allowed token is EOS, not length", () => {
    const r = row({ maxTokens: 1 });
    expect(r.next(favouring(EOS)).end).toBe(ROW_END.eos);
  });

  it("reports the newly stable text and, when asked, logprobs of the raw distribution", () => {
    const r = row({ logprobs: 2, sampling: { ...greedy, logitBias: [[3, 100]] } });
    const sampled = r.next(favouring(2));
    // The bias makes 3 the pick; logprobs still describe the model's own distribution.
    expect(sampled).toMatchObject({ token: 3, text: "d", end: ROW_END.continues });
    expect(sampled.logprob?.token).toBe("<3>");
    expect(sampled.logprob?.top.map((t) => t.token)).toEqual(["<2>", "<0>"]);
  });
});
