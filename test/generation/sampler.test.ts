/**
 * RowSampler, argmax, drawFrom and SeededRandom. Every random check uses a
 * fixed seed, so tolerance checks are deterministic, never flaky.
 */
import { describe, expect, it } from "vitest";
import type { SamplingParams } from "../../src/domain.ts";
import { softmax } from "../../src/generation/logits-processors.ts";
import { SeededRandom } from "../../src/generation/rng.ts";
import { argmax, drawFrom, RowSampler } from "../../src/generation/sampler.ts";
import { greedy } from "../support/engine.ts";

const NEG = Number.NEGATIVE_INFINITY;
const row = (...values: number[]): Float32Array => Float32Array.from(values);

const sampled: SamplingParams = { ...greedy, temperature: 1 };

/** A fixed, fairly flat row so draws vary. */
const FLAT = [0.1, 0.3, -0.2, 0.5, 0, 0.25, -0.1, 0.4];

function draws(sampler: RowSampler, count: number): number[] {
  return Array.from({ length: count }, () => sampler.sample(Float32Array.from(FLAT)));
}

describe("argmax", () => {
  it("returns the index of the largest value, the first one on ties", () => {
    expect(argmax(row(1, 5, 2))).toBe(1);
    expect(argmax(row(3, 7, 7, 1))).toBe(1);
    expect(argmax(row(NEG, NEG, -1))).toBe(2);
    expect(argmax(row(4))).toBe(0);
  });
});

describe("RowSampler, greedy", () => {
  it("takes the argmax after the processors (logit bias flips the choice)", () => {
    const plain = new RowSampler(greedy, 0, 0, []);
    expect(plain.sample(row(1, 5, 2))).toBe(1);
    const biased = new RowSampler({ ...greedy, logitBias: [[2, 10]] }, 0, 0, []);
    expect(biased.sample(row(1, 5, 2))).toBe(2);
  });

  it("applies the repetition penalty to prompt tokens", () => {
    // Prompt has id 1: 3 / 2 = 1.5 < 2.5, so id 2 wins.
    const sampler = new RowSampler({ ...greedy, repetitionPenalty: 2 }, 0, 0, [1]);
    expect(sampler.sample(row(1, 3, 2.5))).toBe(2);
  });

  it("applies frequency penalties to its own earlier picks", () => {
    const sampler = new RowSampler({ ...greedy, frequencyPenalty: 0.6 }, 0, 0, []);
    // Id 0 leads by 1: picked twice (penalty 0.6, then 1.2 > 1), then id 1 takes over.
    const picks = [0, 1, 2].map(() => sampler.sample(row(2, 1)));
    expect(picks).toEqual([0, 0, 1]);
    expect(sampler.generatedCounts.get(0)).toBe(2);
    expect(sampler.generatedCounts.get(1)).toBe(1);
  });

  it("records prompt ids and its own picks as seen", () => {
    const sampler = new RowSampler(greedy, 0, 0, [7, 8]);
    sampler.sample(row(0, 0, 9));
    expect([...sampler.seen].sort()).toEqual([2, 7, 8]);
    expect([...sampler.generatedCounts]).toEqual([[2, 1]]);
  });

  it("ignores the seed", () => {
    const a = draws(new RowSampler(greedy, 1, 0, []), 20);
    const b = draws(new RowSampler(greedy, 2, 5, []), 20);
    expect(a).toEqual(b);
    expect(new Set(a)).toEqual(new Set([3]));
  });
});

describe("RowSampler, sampling", () => {
  it("the same seed and stream give the same sequence of draws", () => {
    const a = draws(new RowSampler(sampled, 1234, 0, []), 200);
    const b = draws(new RowSampler(sampled, 1234, 0, []), 200);
    expect(a).toEqual(b);
    expect(new Set(a).size).toBeGreaterThan(4);
  });

  it("different seeds, and different streams of one seed, give different sequences", () => {
    const base = draws(new RowSampler(sampled, 1234, 0, []), 100);
    expect(draws(new RowSampler(sampled, 1235, 0, []), 100)).not.toEqual(base);
    expect(draws(new RowSampler(sampled, 1234, 1, []), 100)).not.toEqual(base);
    expect(draws(new RowSampler(sampled, 1234 + 2 ** 32, 0, []), 100)).not.toEqual(base);
  });

  it("never picks a token that top-k removed", () => {
    const sampler = new RowSampler({ ...sampled, topK: 2 }, 99, 0, []);
    const picks = new Set(draws(sampler, 500));
    // The two largest of FLAT are 0.5 (id 3) and 0.4 (id 7).
    expect(picks).toEqual(new Set([3, 7]));
  });

  it("low temperature concentrates the draws on the argmax", () => {
    const sampler = new RowSampler({ ...sampled, temperature: 0.01 }, 5, 0, []);
    expect(new Set(draws(sampler, 200))).toEqual(new Set([3]));
  });

  it("temperature 1e-300 (the reliability report) takes the argmax for every seed, not the last id", () => {
    // Id 3 plays EOS: NaN arithmetic used to land on the last id, an empty answer with finish "stop".
    for (const t of [1e-300, 5e-324]) {
      for (let seed = 0; seed < 50; seed++) {
        const sampler = new RowSampler({ ...sampled, temperature: t }, seed, 0, []);
        expect(sampler.sample(row(1, 5, 4.9999995, 2))).toBe(1);
      }
    }
  });

  it("repetition_penalty 5e-324 (the reliability report) draws among the seen positive tokens, tied at the top", () => {
    // Seen ids 1 and 2 overflow to the largest float32 and share the mass; the unseen last id never comes.
    const picks = new Set<number>();
    for (let seed = 0; seed < 100; seed++) {
      const sampler = new RowSampler({ ...sampled, repetitionPenalty: 5e-324 }, seed, 0, [1, 2]);
      picks.add(sampler.sample(row(3, 1, 2, 9)));
    }
    expect(picks).toEqual(new Set([1, 2]));
    const greedyRow = new RowSampler({ ...greedy, repetitionPenalty: 5e-324 }, 0, 0, [1, 2]);
    expect(greedyRow.sample(row(3, 1, 2, 9))).toBe(1);
  });

  it("treats a NaN logit as masked, never as a number", () => {
    for (const params of [greedy, sampled, { ...sampled, topP: 0.5, temperature: 0.3 }]) {
      for (let seed = 0; seed < 20; seed++) {
        const sampler = new RowSampler(params, seed, 0, []);
        expect(sampler.sample(row(Number.NaN, -3, 1, Number.NaN))).toBe(2);
      }
    }
  });

  it("a row with no number at all (all -Infinity or NaN) gives id 0, greedy or sampled", () => {
    const extreme: SamplingParams = { ...sampled, temperature: 1e-300, logitBias: [[2, 100]] };
    for (const params of [greedy, sampled, extreme]) {
      const sampler = new RowSampler(params, 3, 0, []);
      expect(sampler.sample(row(NEG, Number.NaN, NEG, NEG))).toBe(0);
    }
  });
});

describe("drawFrom", () => {
  it("frequencies match softmax over many draws (fixed seed)", () => {
    const logits = row(0, 1, 2, NEG, 0.5, -1);
    const expected = softmax(logits);
    const random = new SeededRandom(42);
    const counts = new Array<number>(logits.length).fill(0);
    const n = 200_000;
    for (let i = 0; i < n; i++) counts[drawFrom(logits, random.next())]++;
    expected.forEach((p, i) => expect(Math.abs(counts[i] / n - p)).toBeLessThan(0.005));
    expect(counts[3]).toBe(0);
  });

  it("never draws a -Infinity token, at any u, including the extremes", () => {
    const logits = row(NEG, 1, NEG, 1, NEG);
    for (const u of [0, 1e-12, 0.25, 0.5, 0.75, 0.999999, 1 - 2 ** -32]) {
      expect([1, 3]).toContain(drawFrom(logits, u));
    }
    const random = new SeededRandom(7);
    const drawn = new Set<number>();
    for (let i = 0; i < 10_000; i++) drawn.add(drawFrom(logits, random.next()));
    expect(drawn).toEqual(new Set([1, 3]));
  });

  it("is the inverse CDF: u below the first mass picks the first token", () => {
    // softmax(0, 0, 0, 0) = 0.25 each.
    const logits = row(0, 0, 0, 0);
    expect(drawFrom(logits, 0)).toBe(0);
    expect(drawFrom(logits, 0.2499)).toBe(0);
    expect(drawFrom(logits, 0.2501)).toBe(1);
    expect(drawFrom(logits, 0.7501)).toBe(3);
    expect(drawFrom(logits, 1 - 2 ** -32)).toBe(3);
  });

  it("a fully masked row gives 0, not the last id", () => {
    for (const u of [0, 0.5, 1 - 2 ** -32]) expect(drawFrom(row(NEG, NEG, NEG), u)).toBe(0);
  });

  it("a single finite token is always drawn", () => {
    const logits = row(NEG, NEG, -50, NEG);
    for (const u of [0, 0.5, 1 - 2 ** -32]) expect(drawFrom(logits, u)).toBe(2);
  });
});

describe("SeededRandom", () => {
  it("yields values in [0, 1)", () => {
    const random = new SeededRandom(123);
    let sum = 0;
    let min = 1;
    let max = 0;
    const n = 100_000;
    for (let i = 0; i < n; i++) {
      const u = random.next();
      sum += u;
      min = Math.min(min, u);
      max = Math.max(max, u);
    }
    expect(min).toBeGreaterThanOrEqual(0);
    expect(max).toBeLessThan(1);
    expect(Math.abs(sum / n - 0.5)).toBeLessThan(0.01);
    // The extremes of the 32-bit range map into [0, 1).
    class Fixed extends SeededRandom {
      constructor(private readonly value: number) {
        super(0);
      }
      override nextUint32(): number {
        return this.value;
      }
    }
    expect(new Fixed(0).next()).toBe(0);
    expect(new Fixed(0xffffffff).next()).toBeLessThan(1);
  });

  it("is reproducible per seed and stream, and separates them", () => {
    const take = (r: SeededRandom): number[] => Array.from({ length: 8 }, () => r.nextUint32());
    expect(take(new SeededRandom(5, 2))).toEqual(take(new SeededRandom(5, 2)));
    expect(take(new SeededRandom(5, 2))).not.toEqual(take(new SeededRandom(5, 3)));
    expect(take(new SeededRandom(5))).not.toEqual(take(new SeededRandom(6)));
    // High bits of a safe-integer seed matter.
    expect(take(new SeededRandom(1))).not.toEqual(take(new SeededRandom(2 ** 32 + 1)));
    expect(take(new SeededRandom(0))).not.toEqual(take(new SeededRandom(-1)));
  });

  it("nextUint32 stays in the unsigned 32-bit range", () => {
    const random = new SeededRandom(2 ** 53 - 1, 7);
    let ok = true;
    for (let i = 0; i < 10_000; i++) {
      const v = random.nextUint32();
      ok &&= Number.isInteger(v) && v >= 0 && v < 2 ** 32;
    }
    expect(ok).toBe(true);
  });
});
