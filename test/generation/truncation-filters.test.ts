/**
 * The truncation filters (top-k, top-p, min-p) on small rows with
 * hand-computed results, plus their edge cases: ties, a nucleus that ends
 * exactly on p, at least one survivor.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { kthLargest, minP, softmax, topK, topP } from "../../src/generation/logits-processors.ts";
import { list, NEG, noHistory, P1234, row } from "../support/logits.ts";

describe("topK", () => {
  it("keeps the k largest: [1, 2, 3, 4] with k = 2 gives [-inf, -inf, 3, 4]", () => {
    const logits = row(1, 2, 3, 4);
    topK(2)(logits, noHistory);
    expect(list(logits)).toEqual([NEG, NEG, 3, 4]);
  });

  it("does not depend on the order of the row", () => {
    const logits = row(4, 1, 3, 2);
    topK(2)(logits, noHistory);
    expect(list(logits)).toEqual([4, NEG, 3, NEG]);
  });

  it("keeps every token tied with the k-th", () => {
    const a = row(1, 3, 3, 2);
    topK(1)(a, noHistory);
    expect(list(a)).toEqual([NEG, 3, 3, NEG]);
    const b = row(1, 3, 3, 2);
    topK(3)(b, noHistory);
    expect(list(b)).toEqual([NEG, 3, 3, 2]);
    const c = row(5, 5, 5, 5);
    topK(2)(c, noHistory);
    expect(list(c)).toEqual([5, 5, 5, 5]);
  });

  it("is a no-op when k covers the row", () => {
    for (const k of [4, 5, 1000]) {
      const logits = row(1, 2, 3, 4);
      topK(k)(logits, noHistory);
      expect(list(logits)).toEqual([1, 2, 3, 4]);
    }
  });

  it("kthLargest matches a sort, for random rows", () => {
    fc.assert(
      fc.property(
        fc.array(fc.float({ noNaN: true, noDefaultInfinity: true, min: -100, max: 100 }), { minLength: 1, maxLength: 50 }),
        fc.nat(),
        (values, kSeed) => {
          const k = (kSeed % values.length) + 1;
          const f32 = Float32Array.from(values);
          const sorted = Array.from(f32).sort((x, y) => y - x);
          expect(kthLargest(f32, k)).toBe(sorted[k - 1]);
        },
      ),
    );
  });
});

describe("topP", () => {
  it("p = 0.8 keeps the two tokens whose mass 0.88079 first reaches 0.8", () => {
    const logits = row(1, 2, 3, 4);
    topP(0.8)(logits, noHistory);
    expect(list(logits)).toEqual([NEG, NEG, 3, 4]);
  });

  it("p = 0.5 keeps only the top token (0.64391 >= 0.5)", () => {
    const logits = row(1, 2, 3, 4);
    topP(0.5)(logits, noHistory);
    expect(list(logits)).toEqual([NEG, NEG, NEG, 4]);
  });

  it("p = 0.9 keeps three tokens (0.88079 < 0.9 <= 0.96794)", () => {
    const logits = row(3, 1, 4, 2);
    topP(0.9)(logits, noHistory);
    expect(list(logits)).toEqual([3, NEG, 4, 2]);
  });

  it("a nucleus ending exactly on p keeps the smallest set that reaches p", () => {
    // Four equal logits: exactly 0.25 each, cumulative 0.25, 0.5 = p: two tokens (lowest ids on ties).
    const logits = row(0, 0, 0, 0);
    topP(0.5)(logits, noHistory);
    expect(list(logits)).toEqual([0, 0, NEG, NEG]);
    // [ln 2, 0, 0] is 0.5, 0.25, 0.25 (ln 2 rounded to float32, so just above 0.5): p = 0.75 keeps two.
    const halves = row(Math.log(2), 0, 0);
    topP(0.75)(halves, noHistory);
    expect(list(halves).filter((v) => v !== NEG)).toHaveLength(2);
  });

  it("always keeps at least one token, however small p is", () => {
    for (const p of [1e-12, 0.01]) {
      const logits = row(5, 5, 1);
      topP(p)(logits, noHistory);
      expect(list(logits)).toEqual([5, NEG, NEG]);
    }
  });

  it("reaches past the tiny-probability shortcut when p needs the tail", () => {
    // exp(-20) = 2.06e-9: both tail tokens sit below the 1e-7 pre-filter, yet
    // 1 - 1e-10 needs them (the top token alone has 1 - 4.1e-9).
    const logits = row(0, -20, -20);
    topP(1 - 1e-10)(logits, noHistory);
    expect(list(logits)).toEqual([0, -20, -20]);
    const cut = row(0, -20, -20);
    topP(0.999)(cut, noHistory);
    expect(list(cut)).toEqual([0, NEG, NEG]);
  });

  it("ignores tokens another filter already removed", () => {
    const logits = row(1, 2, 3, 4);
    topK(3)(logits, noHistory);
    topP(0.7)(logits, noHistory);
    // Renormalised over [2, 3, 4]: 0.0900, 0.2447, 0.6652; 0.6652 < 0.7 so two tokens stay.
    expect(list(logits)).toEqual([NEG, NEG, 3, 4]);
  });

  it("keeps a minimal nucleus of the most likely tokens, for random rows", () => {
    fc.assert(
      fc.property(
        fc.array(fc.float({ noNaN: true, noDefaultInfinity: true, min: -20, max: 20 }), { minLength: 1, maxLength: 40 }),
        fc.double({ min: 0.01, max: 0.99, noNaN: true }),
        (values, p) => {
          const logits = Float32Array.from(values);
          const probs = softmax(logits);
          topP(p)(logits, noHistory);
          const kept = [...logits.keys()].filter((i) => logits[i] !== NEG);
          const dropped = [...logits.keys()].filter((i) => logits[i] === NEG);
          expect(kept.length).toBeGreaterThan(0);
          for (const i of kept) expect(logits[i]).toBe(Math.fround(values[i]));
          const mass = kept.reduce((s, i) => s + probs[i], 0);
          expect(mass).toBeGreaterThanOrEqual(p - 1e-12);
          // Most likely first: nothing dropped beats anything kept.
          const minKept = Math.min(...kept.map((i) => probs[i]));
          for (const i of dropped) expect(probs[i]).toBeLessThanOrEqual(minKept);
          // Minimal: without its least likely member the nucleus is short of p.
          if (kept.length > 1) expect(mass - minKept).toBeLessThan(p + 1e-12);
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe("minP", () => {
  it("0.2 drops tokens under 0.2 x 0.64391 = 0.12878", () => {
    const logits = row(1, 2, 3, 4);
    minP(0.2)(logits, noHistory);
    expect(list(logits)).toEqual([NEG, NEG, 3, 4]);
  });

  it("0.1 drops only the 0.03206 token (floor 0.06439)", () => {
    const logits = row(1, 2, 3, 4);
    minP(0.1)(logits, noHistory);
    expect(list(logits)).toEqual([NEG, 2, 3, 4]);
  });

  it("always keeps the top token, and ties with it", () => {
    const logits = row(7, 7, 0);
    minP(1)(logits, noHistory);
    expect(list(logits)).toEqual([7, 7, NEG]);
  });
});
