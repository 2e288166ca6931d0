/**
 * The contract every code point automaton meets (the pattern DFA, the
 * pattern-and-format product, "any string"), and the small pieces their
 * implementations share: the alphabet is cut into contiguous classes given
 * by their lowest code points, and transitions are memoized lazily behind a
 * not-yet-computed marker. Kept apart from the regex so the string terminal
 * can depend on the automaton shape without depending on how it was built.
 */

export const MAX_CODE_POINT = 0x10ffff;

/**
 * A DFA over code points whose alphabet is partitioned into classes: every
 * code point of a class leads to the same state from every state. Classes
 * are contiguous intervals numbered in code point order.
 */
export interface CodePointAutomaton {
  readonly start: number;
  readonly classCount: number;
  classOf(codePoint: number): number;
  /** Smallest code point of the class. */
  classLow(cls: number): number;
  /** Largest code point of the class. */
  classHigh(cls: number): number;
  /** The state after one code point of the class, or DEAD when no match can continue. */
  next(state: number, cls: number): number;
  isAccepting(state: number): boolean;
}

export interface AutomatonOptions {
  /** Throw PatternTooComplexError when the DFA would need more states than this. */
  readonly maxStates?: number;
}

/** A memoized transition not computed yet; distinct from DEAD (-1) and every state id. */
export const UNKNOWN = -2;

/** The class of `cp` when class k starts at lows[k] (lows sorted, lows[0] = 0). */
export function classIndex(lows: Int32Array, cp: number): number {
  let lo = 0;
  let hi = lows.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (lows[mid] <= cp) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/**
 * The class bookkeeping the lazily built automata share (the pattern DFA
 * and the pattern-and-format product): class k is the interval from lows[k]
 * to the next class's low.
 */
export abstract class IntervalClasses {
  readonly classCount: number;

  protected constructor(protected readonly lows: Int32Array) {
    this.classCount = lows.length;
  }

  classOf(codePoint: number): number {
    return classIndex(this.lows, codePoint);
  }

  classLow(cls: number): number {
    return this.lows[cls];
  }

  classHigh(cls: number): number {
    return cls + 1 < this.classCount ? this.lows[cls + 1] - 1 : MAX_CODE_POINT;
  }
}
