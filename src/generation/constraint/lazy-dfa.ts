/**
 * Lazy subset construction over the pattern's NFA. A DFA state is an
 * interned set of NFA nodes, and transitions are memoized per (state, class)
 * where classes are the intervals cut out by every boundary of every
 * character set in the pattern, so code points in one class behave
 * identically everywhere. No table ever spans all 1.1M code points, and
 * only states a caller actually reaches are built, which is what lets the
 * state cap be checked as the DFA grows.
 */
import { DEAD } from "./byte-terminal.ts";
import { IntervalClasses, MAX_CODE_POINT, UNKNOWN, type CodePointAutomaton } from "./code-point-automaton.ts";
import { setContains, type CodePointSet } from "./code-point-sets.ts";
import { PatternTooComplexError } from "./pattern-errors.ts";
import type { Nfa } from "./regex-nfa.ts";

/** Interval boundaries of a partition of [0, MAX_CODE_POINT]: class k starts at lows[k]. */
function partitionLows(sets: readonly CodePointSet[]): Int32Array {
  const cuts = new Set<number>([0]);
  for (const set of sets) {
    for (let i = 0; i < set.length; i += 2) {
      cuts.add(set[i]);
      if (set[i + 1] < MAX_CODE_POINT) cuts.add(set[i + 1] + 1);
    }
  }
  return Int32Array.from([...cuts].sort((a, b) => a - b));
}

export class LazyDfa extends IntervalClasses implements CodePointAutomaton {
  readonly start: number;
  /** For each NFA code point set, whether each class lies inside it. */
  private readonly membership: Uint8Array[];
  private readonly stateNodes: Int32Array[] = [];
  private readonly accepting: boolean[] = [];
  private readonly transitions: Int32Array[] = [];
  private readonly index = new Map<string, number>();
  private readonly mark: Uint32Array;
  private generation = 0;

  constructor(
    private readonly nfa: Nfa,
    startNode: number,
    private readonly finalNode: number,
    /** A node whose presence means every continuation matches (the trailing any-loop); such states are all one state. */
    private readonly acceptAllNode: number,
    private readonly maxStates: number,
  ) {
    super(partitionLows(nfa.sets));
    this.membership = nfa.sets.map((set) => {
      const member = new Uint8Array(this.classCount);
      for (let k = 0; k < this.classCount; k++) member[k] = setContains(set, this.lows[k]) ? 1 : 0;
      return member;
    });
    this.mark = new Uint32Array(nfa.setOf.length);
    this.start = this.intern(this.closure([startNode]));
  }

  isAccepting(state: number): boolean {
    return this.accepting[state];
  }

  next(state: number, cls: number): number {
    const row = this.transitions[state];
    const known = row[cls];
    if (known !== UNKNOWN) return known;
    const targets: number[] = [];
    for (const node of this.stateNodes[state]) {
      const set = this.nfa.setOf[node];
      if (set >= 0 && this.membership[set][cls] === 1) targets.push(this.nfa.target[node]);
    }
    const result = targets.length === 0 ? DEAD : this.intern(this.closure(targets));
    row[cls] = result;
    return result;
  }

  private closure(seeds: readonly number[]): number[] {
    const stamp = ++this.generation;
    const out: number[] = [];
    const stack = [...seeds];
    while (stack.length > 0) {
      const node = stack.pop() as number;
      if (this.mark[node] === stamp) continue;
      this.mark[node] = stamp;
      if (node === this.acceptAllNode) return this.acceptAllClosure();
      out.push(node);
      for (const next of this.nfa.epsilon[node]) if (this.mark[next] !== stamp) stack.push(next);
    }
    return out.sort((a, b) => a - b);
  }

  private acceptAllClosure(): number[] {
    return [this.acceptAllNode, this.finalNode].sort((a, b) => a - b);
  }

  private intern(nodes: number[]): number {
    if (nodes.length === 0) return DEAD;
    const key = nodes.join(",");
    const known = this.index.get(key);
    if (known !== undefined) return known;
    if (this.stateNodes.length >= this.maxStates) {
      throw new PatternTooComplexError(`pattern needs more than ${this.maxStates} automaton states`);
    }
    const id = this.stateNodes.length;
    this.stateNodes.push(Int32Array.from(nodes));
    this.accepting.push(nodes.includes(this.finalNode));
    this.transitions.push(new Int32Array(this.classCount).fill(UNKNOWN));
    this.index.set(key, id);
    return id;
  }
}
