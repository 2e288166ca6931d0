/**
 * The code points a JSON string terminal can write, as sorted disjoint
 * intervals of Unicode scalar values (surrogates are never written, raw or
 * escaped), and the interval arithmetic the terminal and its value language
 * both need. Shared here so the two agree on what "writable" means.
 */
import { MAX_CODE_POINT } from "./code-point-automaton.ts";

export const SURROGATE_LOW = 0xd800;
export const SURROGATE_HIGH = 0xdfff;

/** Code points the terminal can produce, as sorted disjoint intervals. */
export type Intervals = readonly (readonly [number, number])[];

export const ALL_SCALARS: Intervals = [
  [0, SURROGATE_LOW - 1],
  [SURROGATE_HIGH + 1, MAX_CODE_POINT],
];
export const BMP_SCALARS: Intervals = [
  [0, SURROGATE_LOW - 1],
  [SURROGATE_HIGH + 1, 0xffff],
];

export function withoutSurrogates(lo: number, hi: number): [number, number][] {
  const out: [number, number][] = [];
  if (lo < SURROGATE_LOW) out.push([lo, Math.min(hi, SURROGATE_LOW - 1)]);
  if (hi > SURROGATE_HIGH) out.push([Math.max(lo, SURROGATE_HIGH + 1), hi]);
  return out;
}

export function overlapSize(lo: number, hi: number, set: Intervals): number {
  let size = 0;
  for (const [a, b] of set) {
    const from = Math.max(lo, a);
    const to = Math.min(hi, b);
    if (from <= to) size += to - from + 1;
  }
  return size;
}
