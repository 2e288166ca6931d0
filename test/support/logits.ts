/** Small rows and histories for the logits-processor tests, with the hand-computed softmax they check against. */
import type { SamplingParams } from "../../src/domain.ts";
import type { RowHistory } from "../../src/generation/logits-processors.ts";
import { greedy } from "./engine.ts";

export const NEG = Number.NEGATIVE_INFINITY;
export const row = (...values: number[]): Float32Array => Float32Array.from(values);
export const list = (a: Float32Array): number[] => Array.from(a);
export const noHistory: RowHistory = { seen: new Set(), generatedCounts: new Map() };
export const history = (seen: number[], counts: Array<[number, number]> = []): RowHistory => ({
  seen: new Set(seen),
  generatedCounts: new Map(counts),
});

/** Every setting off, sampling at temperature 1. */
export const neutral: SamplingParams = { ...greedy, temperature: 1 };

/*
 * softmax([1, 2, 3, 4]) = e^i / (e + e^2 + e^3 + e^4), with
 * e = 2.71828, e^2 = 7.38906, e^3 = 20.08554, e^4 = 54.59815, sum = 84.79103:
 *   p = [0.03206, 0.08714, 0.23688, 0.64391]
 * cumulative from the top: 0.64391, 0.88079, 0.96794, 1.
 */
export const P1234 = [0.03206, 0.08714, 0.23688, 0.64391];

