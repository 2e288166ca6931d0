/**
 * The decoded side of a JSON string: a value in progress is a triple (DFA
 * state, code point count, exclusion-trie node), and this decides whether a
 * triple can still be extended by writable code points to an accepted
 * value, combining the pattern DFA, the length bounds and the exclusions.
 * Kept apart from the byte terminal so that the terminal only deals with
 * bytes (quotes, escapes, UTF-8) and asks this one question per state.
 */
import { DEAD } from "./byte-terminal.ts";
import { OUTSIDE_EXCLUSIONS, type ExclusionTrie } from "./exclusion-trie.ts";
import { overlapSize, withoutSurrogates, type Intervals } from "./scalar-intervals.ts";
import { CompletionLengths } from "./string-completion-lengths.ts";
import type { WritableDfa } from "./writable-dfa.ts";

export class ValueLanguage {
  readonly initialNode: number;
  private readonly lengths: CompletionLengths;
  private readonly countCap: number;
  private readonly memo = new Map<string, boolean>();

  constructor(
    readonly automaton: WritableDfa,
    readonly writable: Intervals,
    readonly min: number,
    readonly max: number,
    readonly exclusions: ExclusionTrie | null,
  ) {
    this.lengths = new CompletionLengths(automaton, min, max);
    // Without maxLength, counts past minLength behave alike; capping them keeps the state space finite.
    this.countCap = max === Infinity ? min : max;
    this.initialNode = exclusions === null ? OUTSIDE_EXCLUSIONS : 0;
  }

  nextCount(c: number): number {
    return c + 1 > this.countCap ? (this.max === Infinity ? this.countCap : DEAD) : c + 1;
  }

  canEnd(s: number, c: number, n: number): boolean {
    return (
      this.automaton.isAccepting(s) &&
      c >= this.min &&
      (n === OUTSIDE_EXCLUSIONS || !(this.exclusions as ExclusionTrie).ends[n])
    );
  }

  /** Whether the value (s, c, n) can still be extended by writable code points to an accepted value. */
  live(s: number, c: number, n: number): boolean {
    if (s === DEAD) return false;
    if (n === OUTSIDE_EXCLUSIONS) return this.lengths.live(s, c);
    const key = `${s},${c},${n}`;
    const known = this.memo.get(key);
    if (known !== undefined) return known;
    const result = this.computeLive(s, c, n);
    this.memo.set(key, result);
    return result;
  }

  private computeLive(s: number, c: number, n: number): boolean {
    if (this.canEnd(s, c, n)) return true;
    const c1 = this.nextCount(c);
    if (c1 === DEAD) return false;
    const trie = this.exclusions as ExclusionTrie;
    const automaton = this.automaton;
    const childrenPerClass = new Map<number, number>();
    for (const cp of trie.sortedChildren[n]) {
      if (overlapSize(cp, cp, this.writable) === 0) continue;
      const k = automaton.classOf(cp);
      childrenPerClass.set(k, (childrenPerClass.get(k) ?? 0) + 1);
      if (this.live(automaton.next(s, k), c1, trie.children[n].get(cp) as number)) return true;
    }
    for (let k = 0; k < automaton.classCount; k++) {
      const room = overlapSize(automaton.classLow(k), automaton.classHigh(k), this.writable);
      if (room <= (childrenPerClass.get(k) ?? 0)) continue;
      const t = automaton.next(s, k);
      if (t !== DEAD && this.lengths.live(t, c1)) return true;
    }
    return false;
  }

  /** Whether some code point in [lo, hi] (surrogates excluded; all writable) leads from (s, c, n) to a live value. */
  liveThroughSome(lo: number, hi: number, s: number, c: number, n: number): boolean {
    const c1 = this.nextCount(c);
    if (c1 === DEAD) return false;
    const automaton = this.automaton;
    const trie = this.exclusions;
    for (const [a, b] of withoutSurrogates(lo, hi)) {
      for (let k = automaton.classOf(a), last = automaton.classOf(b); k <= last; k++) {
        const from = Math.max(a, automaton.classLow(k));
        const to = Math.min(b, automaton.classHigh(k));
        const t = automaton.next(s, k);
        if (t === DEAD) continue;
        let children = 0;
        if (trie !== null && n !== OUTSIDE_EXCLUSIONS) {
          for (const cp of trie.sortedChildren[n]) {
            if (cp < from || cp > to) continue;
            children++;
            if (this.live(t, c1, trie.children[n].get(cp) as number)) return true;
          }
        }
        if (to - from + 1 > children && this.lengths.live(t, c1)) return true;
      }
    }
    return false;
  }
}
