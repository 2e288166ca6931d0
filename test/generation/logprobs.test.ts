/**
 * tokenLogprobs: the chosen token's log-probability and the top alternatives
 * of the model's raw distribution, checked against a direct float64
 * log-softmax.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { logSumExp, tokenLogprobs } from "../../src/generation/logprobs.ts";

/** log softmax computed the textbook way, in float64. */
function logSoftmax(values: Float32Array): number[] {
  const max = Math.max(...values);
  const sum = Array.from(values).reduce((s, v) => s + Math.exp(v - max), 0);
  return Array.from(values, (v) => v - max - Math.log(sum));
}

const rows = fc.array(fc.float({ noNaN: true, noDefaultInfinity: true, min: -50, max: 50 }), {
  minLength: 1,
  maxLength: 64,
});

describe("tokenLogprobs", () => {
  it("equals a direct log-softmax within 1e-6, for the chosen and every top token", () => {
    fc.assert(
      fc.property(rows, fc.nat(), fc.integer({ min: 0, max: 20 }), (values, pick, count) => {
        const logits = Float32Array.from(values);
        const chosen = pick % logits.length;
        const expected = logSoftmax(logits);
        const result = tokenLogprobs(logits, chosen, count);
        expect(Math.abs(result.logprob - expected[chosen])).toBeLessThan(1e-6);
        for (const t of result.top) expect(Math.abs(t.logprob - expected[t.id])).toBeLessThan(1e-6);
      }),
      { numRuns: 500 },
    );
  });

  it("logits a few ulps apart that share one logprob still rank by the logit (the property's counterexample)", () => {
    const logits = Float32Array.from([1.8216880036222622e-44, 1.8216880036222622e-44, 1.961817850054744e-44]);
    expect(tokenLogprobs(logits, 0, 2).top.map((t) => t.id)).toEqual([2, 0]);
  });

  it("returns min(count, vocab) alternatives, sorted descending, that are the most likely tokens", () => {
    fc.assert(
      fc.property(rows, fc.integer({ min: 0, max: 20 }), (values, count) => {
        const logits = Float32Array.from(values);
        const { top } = tokenLogprobs(logits, 0, count);
        expect(top).toHaveLength(Math.min(count, logits.length));
        expect(new Set(top.map((t) => t.id)).size).toBe(top.length);
        for (let i = 1; i < top.length; i++) expect(top[i - 1].logprob).toBeGreaterThanOrEqual(top[i].logprob);
        if (top.length > 0) {
          const weakest = logits[top[top.length - 1].id];
          const inTop = new Set(top.map((t) => t.id));
          for (let i = 0; i < logits.length; i++) if (!inTop.has(i)) expect(logits[i]).toBeLessThanOrEqual(weakest);
        }
      }),
      { numRuns: 500 },
    );
  });

  it("hand-computed: [1, 2, 3, 4], chosen 2, top 2", () => {
    // logsumexp = 4 + ln(1 + e^-1 + e^-2 + e^-3) = 4.44019
    const r = tokenLogprobs(Float32Array.from([1, 2, 3, 4]), 2, 2);
    expect(r.logprob).toBeCloseTo(3 - 4.44019, 5);
    expect(r.top.map((t) => t.id)).toEqual([3, 2]);
    expect(r.top[0].logprob).toBeCloseTo(4 - 4.44019, 5);
  });

  it("count 0 gives no alternatives; the chosen token need not be among them", () => {
    const logits = Float32Array.from([5, 1, 0]);
    expect(tokenLogprobs(logits, 2, 0).top).toEqual([]);
    const r = tokenLogprobs(logits, 2, 1);
    expect(r.top.map((t) => t.id)).toEqual([0]);
    expect(r.logprob).toBeLessThan(r.top[0].logprob);
  });

  it("breaks ties at the cut by the lower id", () => {
    const r = tokenLogprobs(Float32Array.from([1, 2, 2, 2]), 0, 2);
    expect(r.top.map((t) => t.id)).toEqual([1, 2]);
    expect(r.top[0].logprob).toBe(r.top[1].logprob);
  });

  it("a count above the vocabulary returns every token", () => {
    const r = tokenLogprobs(Float32Array.from([0, 1, 2]), 1, 20);
    expect(r.top.map((t) => t.id)).toEqual([2, 1, 0]);
    const total = r.top.reduce((s, t) => s + Math.exp(t.logprob), 0);
    expect(total).toBeCloseTo(1, 12);
  });

  it("stays finite for huge logits (no overflow)", () => {
    const r = tokenLogprobs(Float32Array.from([1000, 999, -1000]), 1, 3);
    expect(r.logprob).toBeCloseTo(-1 - Math.log(1 + Math.exp(-1)), 6);
    expect(r.top.every((t) => Number.isFinite(t.logprob))).toBe(true);
  });
});

describe("logSumExp", () => {
  it("matches ln(sum(exp)) and ignores -Infinity entries", () => {
    expect(logSumExp(Float32Array.from([0, 0]))).toBeCloseTo(Math.log(2), 12);
    expect(logSumExp(Float32Array.from([1, Number.NEGATIVE_INFINITY]))).toBe(1);
    expect(logSumExp(Float32Array.from([800, 800]))).toBeCloseTo(800 + Math.log(2), 9);
  });
});
