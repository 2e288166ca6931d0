/**
 * The logits processors other than the truncation filters
 * (truncation-filters.test.ts) on small rows with hand-computed results,
 * plus their extreme values: denormal temperatures and penalties, masked
 * and infinite logits.
 */
import { describe, expect, it } from "vitest";
import {
  buildProcessors,
  FLOAT32_MAX,
  logitBias,
  presenceFrequencyPenalty,
  repetitionPenalty,
  sanitize,
  softmax,
  temperature,
} from "../../src/generation/logits-processors.ts";
import { history, list, NEG, neutral, noHistory, P1234, row } from "../support/logits.ts";

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
