/**
 * The sampler at the edges of every accepted parameter, on any float32 row
 * (denormals, +-Infinity, NaN): the id is always a real token, the limits
 * behave as the math says, and no NaN decides anything.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { SamplingParams } from "../../src/domain.ts";
import { FLOAT32_MAX, temperature } from "../../src/generation/logits-processors.ts";
import { RowSampler } from "../../src/generation/sampler.ts";

const NEG = Number.NEGATIVE_INFINITY;
const POS = Number.POSITIVE_INFINITY;
const TINY = Number.MIN_VALUE; // 5e-324, the smallest positive double
const MAX_VOCAB = 600;

/** A value that the request schema accepts: the given extremes, often, or anything in [min, max]. */
const accepted = (min: number, max: number, ...extremes: number[]): fc.Arbitrary<number> =>
  fc.oneof(fc.constantFrom(...extremes), fc.double({ min, max, noNaN: true }));

const logit = fc.oneof(
  fc.float({ noNaN: false }),
  fc.constantFrom(NEG, POS, Number.NaN, FLOAT32_MAX, -FLOAT32_MAX, 1.4e-45, -1.4e-45, 0, -0, 1, -1),
);
/** Vocabularies of 1 to MAX_VOCAB tokens: short rows for the corner cases, long ones for realism. */
const rowOf = (values: fc.Arbitrary<number>): fc.Arbitrary<Float32Array> =>
  fc
    .oneof(
      fc.array(values, { minLength: 1, maxLength: 8 }),
      fc.array(values, { minLength: 1, maxLength: MAX_VOCAB, size: "max" }),
    )
    .map((v) => Float32Array.from(v));

const tinyTemperature = fc.constantFrom(TINY, 1e-300, 1e-200);

const params: fc.Arbitrary<SamplingParams> = fc.record({
  temperature: accepted(0, 2, 0, TINY, 1e-300, 1e-45, 1e-7, 1, 2),
  topP: accepted(TINY, 1, TINY, 1e-300, 1e-45, 1),
  topK: fc.oneof(fc.constantFrom(0, -1, 1, 2, MAX_VOCAB, 1_000_000_000), fc.integer({ min: 0, max: MAX_VOCAB + 10 })),
  minP: accepted(0, 1, 0, TINY, 1e-300, 1),
  seed: fc.constant(null),
  presencePenalty: accepted(-2, 2, -2, 0, TINY, 2),
  frequencyPenalty: accepted(-2, 2, -2, 0, TINY, 2),
  repetitionPenalty: accepted(TINY, 10, TINY, 1e-300, 1e-45, 1, 10),
  logitBias: fc.array(fc.tuple(fc.nat(MAX_VOCAB + 10), accepted(-100, 100, -100, 100, TINY)), { maxLength: 6 }),
});

/** A row's ids, with the prompt (for the repetition penalty) and a seed. */
const setting = fc.record({
  params,
  seed: fc.integer(),
  prompt: fc.array(fc.nat(MAX_VOCAB), { maxLength: 12 }),
  steps: fc.integer({ min: 1, max: 3 }),
});

/** What the model masked: -Infinity and NaN say nothing for a token. */
const masked = (v: number): boolean => v === NEG || Number.isNaN(v);

describe("RowSampler at accepted extremes, on any float32 row", () => {
  it("returns a token id in range that the model did not mask, and leaves no NaN or +Infinity in the row", () => {
    fc.assert(
      fc.property(setting, rowOf(logit), ({ params, seed, prompt, steps }, raw) => {
        const sampler = new RowSampler(params, seed, 0, prompt);
        const anyNumber = raw.some((v) => !masked(v));
        for (let step = 0; step < steps; step++) {
          const logits = raw.slice();
          const id = sampler.sample(logits);
          expect(Number.isInteger(id) && id >= 0 && id < raw.length).toBe(true);
          // Documented fallback: a row with no number at all takes id 0.
          if (anyNumber) expect(masked(raw[id])).toBe(false);
          else expect(id).toBe(0);
          expect(logits.findIndex((v) => Number.isNaN(v) || v === POS)).toBe(-1);
        }
      }),
      { numRuns: 300 },
    );
  });

  it("without truncation filters, a token ends at -Infinity only if the model masked it", () => {
    const unfiltered = params.map((p) => ({ ...p, topK: 0, topP: 1, minP: 0 }));
    fc.assert(
      fc.property(unfiltered, fc.array(fc.nat(MAX_VOCAB)), rowOf(logit), (p, prompt, raw) => {
        const logits = raw.slice();
        new RowSampler(p, 1, 0, prompt).sample(logits);
        const inRange = (v: number): boolean => Math.abs(v) <= FLOAT32_MAX || v === NEG;
        const wrong = logits.findIndex((v, i) => (v === NEG) !== masked(raw[i]) || !inRange(v));
        expect(wrong).toBe(-1);
      }),
      { numRuns: 200 },
    );
  });

  it("as temperature -> 0 the draw is the argmax of the pre-temperature logits, for any seed", () => {
    fc.assert(
      fc.property(setting, tinyTemperature, rowOf(logit), ({ params, seed, prompt }, t, raw) => {
        // A greedy row with the same biases and penalties sees exactly the pre-temperature logits.
        const before = raw.slice();
        const greedyId = new RowSampler({ ...params, temperature: 0 }, seed, 0, prompt).sample(before);
        const top = before[greedyId];
        const id = new RowSampler({ ...params, temperature: t }, seed, 0, prompt).sample(raw.slice());
        if (top === NEG) expect(id).toBe(0);
        // === rather than toBe: -0 and 0 tie.
        else expect(before[id] === top).toBe(true);
        if (before.filter((v) => v === top).length === 1) expect(id).toBe(greedyId);
      }),
      { numRuns: 200 },
    );
  });

  it("a row with no number at all (all -Infinity or NaN) gives id 0 under any parameters", () => {
    fc.assert(
      fc.property(setting, rowOf(fc.constantFrom(NEG, Number.NaN)), ({ params, seed, prompt }, raw) => {
        expect(new RowSampler(params, seed, 0, prompt).sample(raw)).toBe(0);
      }),
      { numRuns: 100 },
    );
  });

  it("keeps the plain product 1/t, bit for bit, on ordinary rows (seeded outputs do not move)", () => {
    const ordinary = fc.float({ min: -1e4, max: 1e4, noNaN: true });
    fc.assert(
      fc.property(fc.double({ min: 1e-3, max: 2, noNaN: true }), rowOf(ordinary), (t, raw) => {
        const logits = raw.slice();
        temperature(t)(logits, { seen: new Set(), generatedCounts: new Map() });
        const inverse = 1 / t;
        expect(Array.from(logits)).toEqual(Array.from(raw, (v) => Math.fround(v * inverse)));
      }),
      { numRuns: 100 },
    );
  });
});
