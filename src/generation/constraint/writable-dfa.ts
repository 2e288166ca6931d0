/**
 * The pattern/format DFA as the string terminal uses it: fully explored over
 * the code point classes the terminal can write, trimmed and minimized
 * (minimization itself is dfa-equivalence-blocks.ts). Separate from the lazy
 * DFA because this one is finite and eager by design: the terminal's
 * liveness analysis needs every state and its successors up front.
 */
import { DEAD } from "./byte-terminal.ts";
import type { CodePointAutomaton } from "./code-point-automaton.ts";
import { equivalenceBlocks } from "./dfa-equivalence-blocks.ts";

/**
 * The lazily built pattern DFA, explored over the classes the terminal can
 * write, trimmed of states from which no match is reachable (they become
 * DEAD, so `next` itself says when a pattern is hopeless), and minimized by
 * Hopcroft refinement (dfa-equivalence-blocks.ts) so equivalent states share an id: fewer composite states
 * and more hits in callers' per-state caches (`^[a-z]+$` after one letter
 * and after ten is one state). Exploring everything up front is what bounds
 * the automaton size at construction, where a limit error can still be a 400.
 */
export class WritableDfa implements CodePointAutomaton {
  readonly start: number;
  readonly classCount: number;
  readonly stateCount: number;
  private readonly table: Int32Array;
  private readonly accepting: Uint8Array;
  private readonly successorLists: number[][];

  constructor(
    private readonly source: CodePointAutomaton,
    writableClass: Uint8Array,
  ) {
    const classCount = source.classCount;
    this.classCount = classCount;
    const writable: number[] = [];
    for (let k = 0; k < classCount; k++) if (writableClass[k] === 1) writable.push(k);

    // Explore: local ids in discovery order, rows of local targets.
    const local = new Map<number, number>([[source.start, 0]]);
    const sourceIds = [source.start];
    const rows: Int32Array[] = [];
    for (let i = 0; i < sourceIds.length; i++) {
      const row = new Int32Array(classCount).fill(DEAD);
      for (const k of writable) {
        const t = source.next(sourceIds[i], k);
        if (t === DEAD) continue;
        let id = local.get(t);
        if (id === undefined) {
          id = sourceIds.length;
          local.set(t, id);
          sourceIds.push(t);
        }
        row[k] = id;
      }
      rows.push(row);
    }
    const count = sourceIds.length;

    // Trim: keep states from which an accepting state is reachable.
    const predecessors: number[][] = rows.map(() => []);
    rows.forEach((row, s) => {
      for (const k of writable) if (row[k] !== DEAD) predecessors[row[k]].push(s);
    });
    const useful = new Uint8Array(count);
    const queue: number[] = [];
    for (let s = 0; s < count; s++) {
      if (source.isAccepting(sourceIds[s])) {
        useful[s] = 1;
        queue.push(s);
      }
    }
    for (let head = 0; head < queue.length; head++) {
      for (const p of predecessors[queue[head]]) {
        if (useful[p] === 0) {
          useful[p] = 1;
          queue.push(p);
        }
      }
    }

    const accepting = Uint8Array.from(sourceIds, (id) => (source.isAccepting(id) ? 1 : 0));
    const { block, blockCount } = equivalenceBlocks(rows, writable, accepting, useful);

    this.stateCount = blockCount;
    this.table = new Int32Array(this.stateCount * classCount).fill(DEAD);
    this.accepting = new Uint8Array(this.stateCount);
    this.successorLists = Array.from({ length: this.stateCount }, () => []);
    const filled = new Uint8Array(this.stateCount);
    for (let s = 0; s < count; s++) {
      const b = block[s];
      if (b === DEAD || filled[b] === 1) continue;
      filled[b] = 1;
      this.accepting[b] = accepting[s];
      const out = new Set<number>();
      for (const k of writable) {
        const t = rows[s][k] === DEAD ? DEAD : block[rows[s][k]];
        this.table[b * classCount + k] = t;
        if (t !== DEAD) out.add(t);
      }
      this.successorLists[b] = [...out];
    }
    this.start = block[0];
  }

  classOf(codePoint: number): number {
    return this.source.classOf(codePoint);
  }

  classLow(cls: number): number {
    return this.source.classLow(cls);
  }

  classHigh(cls: number): number {
    return this.source.classHigh(cls);
  }

  next(state: number, cls: number): number {
    return this.table[state * this.classCount + cls];
  }

  isAccepting(state: number): boolean {
    return this.accepting[state] === 1;
  }

  /** Distinct states one writable code point away. */
  successors(state: number): readonly number[] {
    return this.successorLists[state];
  }
}
