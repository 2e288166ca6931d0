/**
 * Sets of code points as sorted, disjoint, non-adjacent [lo, hi] pairs,
 * flattened into one array, plus the named sets regex escapes denote
 * (\d \w \s, `.`). The parser builds character sets with these and the lazy
 * DFA tests class membership against them; a set is never expanded to its
 * members, since one may span all 1.1M code points.
 */
import { MAX_CODE_POINT } from "./code-point-automaton.ts";

export type CodePointSet = readonly number[];

export function normalizeSet(pairs: number[]): number[] {
  const ranges: [number, number][] = [];
  for (let i = 0; i < pairs.length; i += 2) ranges.push([pairs[i], pairs[i + 1]]);
  ranges.sort((x, y) => x[0] - y[0]);
  const out: number[] = [];
  for (const [lo, hi] of ranges) {
    const last = out.length - 1;
    if (last > 0 && lo <= out[last] + 1) out[last] = Math.max(out[last], hi);
    else out.push(lo, hi);
  }
  return out;
}

export function complementSet(set: CodePointSet): number[] {
  const out: number[] = [];
  let from = 0;
  for (let i = 0; i < set.length; i += 2) {
    if (set[i] > from) out.push(from, set[i] - 1);
    from = set[i + 1] + 1;
  }
  if (from <= MAX_CODE_POINT) out.push(from, MAX_CODE_POINT);
  return out;
}

export function setContains(set: CodePointSet, cp: number): boolean {
  let lo = 0;
  let hi = set.length / 2 - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (cp < set[2 * mid]) hi = mid - 1;
    else if (cp > set[2 * mid + 1]) lo = mid + 1;
    else return true;
  }
  return false;
}

export const DIGIT: CodePointSet = [0x30, 0x39];
export const WORD: CodePointSet = normalizeSet([0x30, 0x39, 0x41, 0x5a, 0x5f, 0x5f, 0x61, 0x7a]);
/** ECMAScript WhiteSpace and LineTerminator, what `\s` matches. */
export const SPACE: CodePointSet = normalizeSet([
  0x09, 0x0d, 0x20, 0x20, 0xa0, 0xa0, 0x1680, 0x1680, 0x2000, 0x200a, 0x2028, 0x2029, 0x202f, 0x202f, 0x205f, 0x205f,
  0x3000, 0x3000, 0xfeff, 0xfeff,
]);
const LINE_TERMINATORS: CodePointSet = normalizeSet([0x0a, 0x0a, 0x0d, 0x0d, 0x2028, 0x2029]);
export const DOT: CodePointSet = complementSet(LINE_TERMINATORS);
export const ANY: CodePointSet = [0, MAX_CODE_POINT];
