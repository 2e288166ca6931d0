/**
 * Each logits processor on small rows with hand-computed results, plus the
 * edge cases: ties, a nucleus that ends exactly on p, at least one survivor.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { SamplingParams } from "../../src/domain.ts";
import {
  buildProcessors,
  FLOAT32_MAX,
  kthLargest,
  logitBias,
  minP,
  presenceFrequencyPenalty,
  repetitionPenalty,
  sanitize,
  softmax,
  temperature,
  topK,
  topP,
  type RowHistory,
} from "../../src/generation/logits-processors.ts";
import { greedy } from "../support/engine.ts";

const NEG = Number.NEGATIVE_INFINITY;
const row = (...values: number[]): Float32Array => Float32Array.from(values);
const list = (a: Float32Array): number[] => Array.from(a);
const noHistory: RowHistory = { seen: new Set(), generatedCounts: new Map() };
const history = (seen: number[], counts: Array<[number, number]> = []): RowHistory => ({
  seen: new Set(seen),
  generatedCounts: new Map(counts),
});

/** Every setting off, sampling at temperature 1. */
const neutral: SamplingParams = { ...greedy, temperature: 1 };

/*
 * softmax([1, 2, 3, 4]) = e^i / (e + e^2 + e^3 + e^4), with
 * e = 2.71828, e^2 = 7.38906, e^3 = 20.08554, e^4 = 54.59815, sum = 84.79103:
 *   p = [0.03206, 0.08714, 0.23688, 0.64391]
 * cumulative from the top: 0.64391, 0.88079, 0.96794, 1.
 */
const P1234 = [0.03206, 0.08714, 0.23688, 0.64391];

describe("softmax", () => {
  it("matches the hand-computed distribution of [1, 2, 3, 4]", () => {
    const p = softmax(row(1, 2, 3, 4));
    P1234.forEach((q, i) => expect(p[i]).toBeCloseTo(q, 5));
  });

  it("gives -Infinity zero mass and stays finite for huge logits", () => {
    expect(list(row(...softmax(row(1000, 1000, NEG))))).toEqual([0.5, 0.5, 0]);
  });

  it("gives a fully masked row no mass at all, not NaN", () => {
    expect(Array.from(softmax(row(NEG, NEG)))).toEqual([0, 0]);
  });
});

describe("sanitize", () => {
  it("masks NaN and brings +Infinity down to the largest float32", () => {
    const logits = row(Number.NaN, Number.POSITIVE_INFINITY, NEG, 1, -FLOAT32_MAX);
    sanitize(logits);
    expect(list(logits)).toEqual([NEG, FLOAT32_MAX, NEG, 1, -FLOAT32_MAX]);
  });

  it("FLOAT32_MAX is exactly the largest finite float32", () => {
    expect(Math.fround(FLOAT32_MAX)).toBe(FLOAT32_MAX);
    expect(row(FLOAT32_MAX * (1 + 2 ** -24))[0]).toBe(Number.POSITIVE_INFINITY);
  });
});

describe("temperature", () => {
  it("0.5 doubles every logit", () => {
    const logits = row(1, 2, -3, 4);
    temperature(0.5)(logits, noHistory);
    expect(list(logits)).toEqual([2, 4, -6, 8]);
  });

  it("2 halves every logit and leaves -Infinity alone", () => {
    const logits = row(1, -2, NEG);
    temperature(2)(logits, noHistory);
    expect(list(logits)).toEqual([0.5, -1, NEG]);
  });

  it("1e-300 (the reliability report) puts the top at 0 and the rest at -FLOAT32_MAX, never Infinity", () => {
    // The plain product 5 * 1e300 overflowed float32 to Infinity, and the draw computed Infinity - Infinity.
    for (const t of [1e-300, 5e-324]) {
      const logits = row(1, 5, 2, NEG, 4.9999995);
      temperature(t)(logits, noHistory);
      expect(list(logits)).toEqual([-FLOAT32_MAX, 0, -FLOAT32_MAX, NEG, -FLOAT32_MAX]);
    }
  });

  it("5e-324 (1 / t is Infinity) leaves an all-zero row at zero, not NaN", () => {
    const logits = row(0, 0, NEG);
    temperature(5e-324)(logits, noHistory);
    expect(list(logits)).toEqual([0, 0, NEG]);
  });

  it("shifts by the maximum when logits near the float32 limits would overflow", () => {
    const logits = row(FLOAT32_MAX, FLOAT32_MAX / 2, -FLOAT32_MAX);
    temperature(0.5)(logits, noHistory);
    expect(list(logits)).toEqual([0, -FLOAT32_MAX, -FLOAT32_MAX]);
  });
});

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

describe("logitBias", () => {
  it("+100 and -100 are added to the raw logits", () => {
    const logits = row(1, 2, 3, 4);
    logitBias([
      [0, 100],
      [3, -100],
    ])(logits, noHistory);
    expect(list(logits)).toEqual([101, 2, 3, -96]);
  });

  it("ignores ids past the row (a tokenizer larger than the model)", () => {
    const logits = row(1, 2);
    logitBias([
      [5, 100],
      [1, 0.5],
    ])(logits, noHistory);
    expect(list(logits)).toEqual([1, 2.5]);
  });
});

describe("repetitionPenalty (Hugging Face)", () => {
  it("divides positive and multiplies negative logits of seen tokens only", () => {
    const logits = row(2, 1, -3, 4, 0);
    repetitionPenalty(2)(logits, history([0, 2, 4, 99]));
    expect(list(logits)).toEqual([1, 1, -6, 4, 0]);
  });

  it("a penalty below 1 rewards seen tokens", () => {
    const logits = row(2, -2);
    repetitionPenalty(0.5)(logits, history([0, 1]));
    expect(list(logits)).toEqual([4, -1]);
  });

  it("5e-324 (the reliability report) saturates seen positive logits at FLOAT32_MAX, a tie at the top", () => {
    // v / 5e-324 overflowed float32 to Infinity; now every such token ties at the largest float32.
    const logits = row(2, 0.5, -3, NEG, 7);
    repetitionPenalty(5e-324)(logits, history([0, 1, 2, 3]));
    expect(list(logits)).toEqual([FLOAT32_MAX, FLOAT32_MAX, -0, NEG, 7]);
  });

  it("10 on a logit near -FLOAT32_MAX saturates there, and a masked token stays masked", () => {
    const logits = row(-FLOAT32_MAX / 2, NEG, FLOAT32_MAX);
    repetitionPenalty(10)(logits, history([0, 1, 2]));
    expect(list(logits)).toEqual([-FLOAT32_MAX, NEG, Math.fround(FLOAT32_MAX / 10)]);
  });

  it("counts a token once however often it was seen (a set, not counts)", () => {
    const logits = row(8);
    repetitionPenalty(2)(logits, history([0], [[0, 5]]));
    expect(list(logits)).toEqual([4]);
  });
});

describe("presenceFrequencyPenalty (OpenAI)", () => {
  it("subtracts count x frequency + presence for generated tokens: {1: 2} gives logit - 2*freq - presence", () => {
    const logits = row(1, 2, 3);
    presenceFrequencyPenalty(0.5, 0.25)(logits, history([0, 1, 2], [[1, 2]]));
    expect(list(logits)).toEqual([1, 2 - 2 * 0.25 - 0.5, 3]);
  });

  it("applies per token, with negative values rewarding repetition", () => {
    const logits = row(0, 0, 0);
    presenceFrequencyPenalty(-1, 1)(logits, history([], [[0, 1], [2, 3]]));
    expect(list(logits)).toEqual([0, 0, -2]);
  });

  it("ignores prompt tokens (only generated counts matter)", () => {
    const logits = row(1, 1);
    presenceFrequencyPenalty(1, 1)(logits, history([0, 1]));
    expect(list(logits)).toEqual([1, 1]);
  });
});

describe("buildProcessors", () => {
  it("neutral settings build no processors", () => {
    expect(buildProcessors(neutral)).toHaveLength(0);
  });

  it("temperature 0 (greedy) builds no temperature and no truncation", () => {
    const ps = buildProcessors({ ...neutral, temperature: 0, topK: 2, topP: 0.5, minP: 0.3 });
    expect(ps).toHaveLength(0);
  });

  it("temperature 0 still applies biases and penalties", () => {
    const ps = buildProcessors({ ...neutral, temperature: 0, topK: 1, logitBias: [[0, 5]], repetitionPenalty: 2 });
    expect(ps).toHaveLength(2);
    const logits = row(1, 4);
    for (const p of ps) p(logits, history([1]));
    expect(list(logits)).toEqual([6, 2]);
  });

  it("builds one processor per non-neutral setting", () => {
    expect(buildProcessors({ ...neutral, temperature: 0.7 })).toHaveLength(1);
    expect(buildProcessors({ ...neutral, topK: 5 })).toHaveLength(1);
    expect(buildProcessors({ ...neutral, presencePenalty: 0.1 })).toHaveLength(1);
    expect(buildProcessors({ ...neutral, frequencyPenalty: 0.1, presencePenalty: 0.1 })).toHaveLength(1);
    expect(
      buildProcessors({
        ...neutral,
        temperature: 0.5,
        topK: 3,
        topP: 0.9,
        minP: 0.05,
        logitBias: [[0, 1]],
        repetitionPenalty: 1.1,
        presencePenalty: 0.5,
      }),
    ).toHaveLength(7);
  });

  it("applies bias and penalties before temperature, then truncation (Hugging Face order)", () => {
    // Raw [1, 2, 3, 4]; bias +2 on id 0 -> [3, 2, 3, 4]; seen {3} with penalty 2 -> [3, 2, 3, 2];
    // temperature 0.5 -> [6, 4, 6, 4]; top-k 1 keeps both 6s.
    const ps = buildProcessors({ ...neutral, logitBias: [[0, 2]], repetitionPenalty: 2, temperature: 0.5, topK: 1 });
    const logits = row(1, 2, 3, 4);
    for (const p of ps) p(logits, history([3]));
    expect(list(logits)).toEqual([6, NEG, 6, NEG]);
  });
});
