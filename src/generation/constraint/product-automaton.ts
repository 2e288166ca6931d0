/**
 * The intersection of two code point automata (a `pattern` and a `format` on
 * one schema), built lazily like the pattern DFA itself: its classes are the
 * common refinement of both operands' classes, and a state is an interned
 * pair of operand states created only when reached, so the state cap is
 * checked as it grows.
 */
import { DEAD } from "./byte-terminal.ts";
import { IntervalClasses, UNKNOWN, type CodePointAutomaton } from "./code-point-automaton.ts";
import { PatternTooComplexError } from "./pattern-errors.ts";

/** Every class boundary of either operand: each product class lies inside one class of each. */
function commonRefinement(left: CodePointAutomaton, right: CodePointAutomaton): Int32Array {
  const cuts = new Set<number>();
  for (let k = 0; k < left.classCount; k++) cuts.add(left.classLow(k));
  for (let k = 0; k < right.classCount; k++) cuts.add(right.classLow(k));
  return Int32Array.from([...cuts].sort((a, b) => a - b));
}

export class ProductAutomaton extends IntervalClasses implements CodePointAutomaton {
  readonly start: number;
  private readonly leftClass: Int32Array;
  private readonly rightClass: Int32Array;
  private readonly pairs: [number, number][] = [];
  private readonly transitions: Int32Array[] = [];
  private readonly index = new Map<number, number>();

  constructor(
    private readonly left: CodePointAutomaton,
    private readonly right: CodePointAutomaton,
    private readonly maxStates: number,
  ) {
    super(commonRefinement(left, right));
    this.leftClass = this.lows.map((low) => left.classOf(low));
    this.rightClass = this.lows.map((low) => right.classOf(low));
    this.start = this.intern(left.start, right.start);
  }

  isAccepting(state: number): boolean {
    const [l, r] = this.pairs[state];
    return this.left.isAccepting(l) && this.right.isAccepting(r);
  }

  next(state: number, cls: number): number {
    const row = this.transitions[state];
    const known = row[cls];
    if (known !== UNKNOWN) return known;
    const [l, r] = this.pairs[state];
    const nl = this.left.next(l, this.leftClass[cls]);
    const nr = nl === DEAD ? DEAD : this.right.next(r, this.rightClass[cls]);
    const result = nr === DEAD ? DEAD : this.intern(nl, nr);
    row[cls] = result;
    return result;
  }

  private intern(l: number, r: number): number {
    const key = l * 0x400000 + r;
    const known = this.index.get(key);
    if (known !== undefined) return known;
    if (this.pairs.length >= this.maxStates) {
      throw new PatternTooComplexError(`pattern and format together need more than ${this.maxStates} automaton states`);
    }
    const id = this.pairs.length;
    this.pairs.push([l, r]);
    this.transitions.push(new Int32Array(this.classCount).fill(UNKNOWN));
    this.index.set(key, id);
    return id;
  }
}
