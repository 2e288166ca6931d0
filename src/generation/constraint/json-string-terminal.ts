/**
 * The JSON string terminal: the bytes of one compact JSON string token,
 * quotes included, UTF-8, whose decoded value satisfies a JSON Schema
 * string's keywords (minLength, maxLength, pattern, format) plus two the
 * grammar needs: `exclude` (object keys already used) and `asciiOnly`.
 *
 * Accepted text: `"`, then raw Unicode scalar values other than `"`, `\`
 * and U+0000-U+001F as valid shortest-form UTF-8, or the escapes \" \\ \/
 * \b \f \n \r \t and \uXXXX (either hex case) for non-surrogate code points,
 * then `"`. Escaped surrogates are rejected, even in valid pairs: that
 * keeps every escape one code point and rules out lone surrogates. So a code
 * point above U+FFFF can only be written raw, and with `asciiOnly` (raw
 * bytes < 0x80 only) no such code point can appear.
 *
 * Lengths count code points of the decoded value, and `pattern`/`format`
 * run on the decoded code points, so `\n` and a raw newline are the same
 * character to every keyword, and exclusions compare decoded values (an
 * escape cannot sneak past `exclude`).
 *
 * Exactness and liveness: a state is only handed out when some completion
 * of it is accepted. The decoded-value side is a triple (DFA state, count,
 * exclusion-trie node); `ValueLanguage.live` decides whether a triple can
 * still end in an accepted value, using a precomputed length analysis
 * (CompletionLengths) of the trimmed, minimized DFA (WritableDfa). A byte in
 * the middle of a code point (UTF-8 continuation, \uXXXX digit) leaves an
 * interval of code points it may still become; such a state is live when
 * one of them leads to a live triple.
 */
import { DEAD, type ByteTerminal } from "./byte-terminal.ts";
import {
  anyStringAutomaton,
  compilePattern,
  intersectAutomata,
  MAX_CODE_POINT,
  type CodePointAutomaton,
} from "./regex-subset.ts";
import { formatPattern } from "./string-formats.ts";

export interface StringConstraint {
  readonly minLength?: number;
  readonly maxLength?: number;
  readonly pattern?: string;
  readonly format?: string;
  /** Decoded values that are not allowed (e.g. object keys already present). */
  readonly exclude?: readonly string[];
  /** Only bytes < 0x80 may be written raw; other characters need \uXXXX. */
  readonly asciiOnly?: boolean;
}

/** The keyword a StringConstraintError is about, for the caller's error path. */
export type StringConstraintKeyword = "minLength" | "maxLength" | "pattern" | "format" | "exclude";

/** The constraint cannot be served: invalid keyword values, unsupported pattern or format, or a size limit. Callers answer 400. */
export class StringConstraintError extends Error {
  constructor(
    readonly keyword: StringConstraintKeyword,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "StringConstraintError";
  }
}

export const STRING_TERMINAL_LIMITS = {
  /** minLength / maxLength above this are refused when a pattern or format applies. */
  maxLengthWithPattern: 10_000,
  /** DFA states for pattern and format together. */
  maxAutomatonStates: 5000,
  /** Work (state x layer edge visits) for the minLength analysis of a pattern. */
  maxLengthAnalysisWork: 20_000_000,
  /** Code points over all `exclude` strings. */
  maxExcludedCodePoints: 100_000,
  /** Code points in one `exclude` string. */
  maxExcludedStringLength: 1000,
} as const;

const UNKNOWN = -2;
/** Exclusion-trie node of a value that already differs from every excluded string. */
const OUTSIDE_EXCLUSIONS = -1;
const SURROGATE_LOW = 0xd800;
const SURROGATE_HIGH = 0xdfff;

// ---------------------------------------------------------------------------
// The pattern DFA as the terminal uses it.

/**
 * The lazily built pattern DFA, explored over the classes the terminal can
 * write, trimmed of states from which no match is reachable (they become
 * DEAD, so `next` itself says when a pattern is hopeless), and minimized by
 * Moore refinement so equivalent states share an id: fewer composite states
 * and more hits in callers' per-state caches (`^[a-z]+$` after one letter
 * and after ten is one state). Exploring everything up front is what bounds
 * the automaton size at construction, where a limit error can still be a 400.
 */
class WritableDfa implements CodePointAutomaton {
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

/**
 * Hopcroft's partition refinement (O(k n log n); Moore's would be quadratic
 * on the long chains `{n,m}` produces). States that cannot accept all fall
 * into one block with an implicit sink standing for DEAD; the result numbers
 * the other blocks 0..blockCount-1 and gives useless states DEAD.
 */
function equivalenceBlocks(
  rows: readonly Int32Array[],
  letters: readonly number[],
  accepting: Uint8Array,
  useful: Uint8Array,
): { block: Int32Array; blockCount: number } {
  const count = rows.length;
  const sink = count;
  const size = count + 1;
  const target = (s: number, k: number): number => {
    if (s === sink || useful[s] === 0) return sink;
    const t = rows[s][k];
    return t === DEAD || useful[t] === 0 ? sink : t;
  };

  // Inverse transitions per letter, as offsets into one array of sources.
  const inverseStart: Int32Array[] = [];
  const inverseSources: Int32Array[] = [];
  for (const k of letters) {
    const starts = new Int32Array(size + 1);
    for (let s = 0; s < size; s++) starts[target(s, k) + 1]++;
    for (let t = 0; t < size; t++) starts[t + 1] += starts[t];
    const fill = starts.slice(0, size);
    const sources = new Int32Array(size);
    for (let s = 0; s < size; s++) sources[fill[target(s, k)]++] = s;
    inverseStart.push(starts);
    inverseSources.push(sources);
  }

  // A refinable partition: each block is a range of `elements`; marked elements sit at the front of their range.
  const elements = new Int32Array(size);
  const position = new Int32Array(size);
  const blockOf = new Int32Array(size);
  const first: number[] = [];
  const end: number[] = [];
  const markedEnd: number[] = [];
  const initialKey = (s: number): number => (s === sink || useful[s] === 0 ? 0 : accepting[s] === 1 ? 1 : 2);
  let at = 0;
  for (let key = 0; key < 3; key++) {
    const from = at;
    for (let s = 0; s < size; s++) {
      if (initialKey(s) !== key) continue;
      elements[at] = s;
      position[s] = at;
      blockOf[s] = first.length;
      at++;
    }
    if (at > from) {
      first.push(from);
      end.push(at);
      markedEnd.push(from);
    }
  }

  const pending: number[] = first.map((_, b) => b);
  const isPending: boolean[] = first.map(() => true);
  const touched: number[] = [];
  const mark = (s: number): void => {
    const b = blockOf[s];
    const i = position[s];
    const j = markedEnd[b];
    if (i < j) return;
    if (j === first[b]) touched.push(b);
    const other = elements[j];
    elements[j] = s;
    position[s] = j;
    elements[i] = other;
    position[other] = i;
    markedEnd[b] = j + 1;
  };

  while (pending.length > 0) {
    const splitter = pending.pop() as number;
    isPending[splitter] = false;
    const members = elements.slice(first[splitter], end[splitter]);
    for (let li = 0; li < letters.length; li++) {
      const starts = inverseStart[li];
      const sources = inverseSources[li];
      for (const t of members) for (let i = starts[t]; i < starts[t + 1]; i++) mark(sources[i]);
      for (const b of touched) {
        if (markedEnd[b] === end[b]) {
          markedEnd[b] = first[b];
          continue;
        }
        // Split: the marked front becomes a new block, the rest stays as b.
        const created = first.length;
        first.push(first[b]);
        end.push(markedEnd[b]);
        markedEnd.push(first[b]);
        first[b] = markedEnd[b];
        markedEnd[b] = first[b];
        for (let i = first[created]; i < end[created]; i++) blockOf[elements[i]] = created;
        if (isPending[b] || end[created] - first[created] <= end[b] - first[b]) {
          pending.push(created);
          isPending.push(true);
        } else {
          pending.push(b);
          isPending[b] = true;
          isPending.push(false);
        }
      }
      touched.length = 0;
    }
  }

  // Number the blocks of useful states densely; the sink's block is DEAD.
  const sinkBlock = blockOf[sink];
  const number = new Int32Array(first.length).fill(DEAD);
  let blockCount = 0;
  const block = new Int32Array(count).fill(DEAD);
  for (let s = 0; s < count; s++) {
    const b = blockOf[s];
    if (b === sinkBlock) continue;
    if (number[b] === DEAD) number[b] = blockCount++;
    block[s] = number[b];
  }
  return { block, blockCount };
}

// ---------------------------------------------------------------------------
// Which (DFA state, count) pairs can still reach an accepted end.

/**
 * For every DFA state, the shortest accepted continuation, and for counts
 * below minLength the layers F_r = states with an accepted continuation
 * whose length lies in [r, r + (max - min)]: F_0 follows from the shortest
 * distances and F_{r+1} = predecessors of F_r. The layers repeat eventually
 * (there are finitely many state sets), so they are computed until a repeat
 * or r = minLength.
 */
class CompletionLengths {
  private readonly minDistance: number[];
  private readonly layers: Uint8Array[] = [];
  /** Index of the first layer of the repeating cycle, and its length. */
  private cycleStart = 0;
  private cycleLength = 1;

  constructor(
    private readonly dfa: WritableDfa,
    private readonly min: number,
    private readonly max: number,
  ) {
    this.minDistance = shortestAcceptedDistances(dfa);
    if (min > 0) this.computeLayers();
  }

  /** True when state `s`, after `c` code points, has a continuation accepted by the DFA with a total length in [min, max]. */
  live(s: number, c: number): boolean {
    if (s === DEAD || c > this.max) return false;
    if (c >= this.min) return this.minDistance[s] !== Infinity && this.minDistance[s] <= this.max - c;
    return this.layer(this.min - c)[s] === 1;
  }

  private layer(r: number): Uint8Array {
    if (r < this.layers.length) return this.layers[r];
    return this.layers[this.cycleStart + ((r - this.cycleStart) % this.cycleLength)];
  }

  private computeLayers(): void {
    const count = this.dfa.stateCount;
    const slack = this.max - this.min;
    let current = new Uint8Array(count);
    for (let s = 0; s < count; s++) current[s] = this.minDistance[s] !== Infinity && this.minDistance[s] <= slack ? 1 : 0;
    const seen = new Map<string, number>();
    let work = 0;
    for (let r = 0; ; r++) {
      const key = layerKey(current);
      const earlier = seen.get(key);
      if (earlier !== undefined) {
        this.cycleStart = earlier;
        this.cycleLength = r - earlier;
        return;
      }
      seen.set(key, r);
      this.layers.push(current);
      if (r === this.min) return;
      const next = new Uint8Array(count);
      for (let s = 0; s < count; s++) {
        const out = this.dfa.successors(s);
        work += out.length + 1;
        for (const t of out) {
          if (current[t] === 1) {
            next[s] = 1;
            break;
          }
        }
      }
      if (work > STRING_TERMINAL_LIMITS.maxLengthAnalysisWork) {
        throw new StringConstraintError(
          "minLength",
          `minLength ${this.min} with this pattern needs too much analysis; lower minLength or simplify the pattern`,
        );
      }
      current = next;
    }
  }
}

function shortestAcceptedDistances(dfa: WritableDfa): number[] {
  const count = dfa.stateCount;
  const predecessors: number[][] = Array.from({ length: count }, () => []);
  const distance: number[] = new Array<number>(count).fill(Infinity);
  const queue: number[] = [];
  for (let s = 0; s < count; s++) {
    for (const t of dfa.successors(s)) predecessors[t].push(s);
    if (dfa.isAccepting(s)) {
      distance[s] = 0;
      queue.push(s);
    }
  }
  for (let head = 0; head < queue.length; head++) {
    const t = queue[head];
    for (const s of predecessors[t]) {
      if (distance[s] === Infinity) {
        distance[s] = distance[t] + 1;
        queue.push(s);
      }
    }
  }
  return distance;
}

function layerKey(layer: Uint8Array): string {
  let key = "";
  for (let i = 0; i < layer.length; i += 16) {
    let bits = 0;
    for (let j = 0; j < 16 && i + j < layer.length; j++) bits |= layer[i + j] << j;
    key += String.fromCharCode(bits + 0x20);
  }
  return key;
}

// ---------------------------------------------------------------------------
// Excluded values as a trie over code points.

class ExclusionTrie {
  readonly children: Map<number, number>[] = [new Map()];
  readonly sortedChildren: number[][] = [];
  readonly ends: boolean[] = [false];

  constructor(values: readonly string[]) {
    for (const value of values) {
      let node = 0;
      for (const ch of value) {
        const cp = ch.codePointAt(0) as number;
        let child = this.children[node].get(cp);
        if (child === undefined) {
          child = this.children.length;
          this.children.push(new Map());
          this.ends.push(false);
          this.children[node].set(cp, child);
        }
        node = child;
      }
      this.ends[node] = true;
    }
    for (const map of this.children) this.sortedChildren.push([...map.keys()].sort((a, b) => a - b));
  }

  /** The node after `cp`, or OUTSIDE_EXCLUSIONS once the value differs from every excluded string. */
  next(node: number, cp: number): number {
    if (node === OUTSIDE_EXCLUSIONS) return OUTSIDE_EXCLUSIONS;
    return this.children[node].get(cp) ?? OUTSIDE_EXCLUSIONS;
  }

  hasChildIn(node: number, lo: number, hi: number): boolean {
    if (node === OUTSIDE_EXCLUSIONS) return false;
    for (const cp of this.sortedChildren[node]) if (cp >= lo && cp <= hi) return true;
    return false;
  }
}

// ---------------------------------------------------------------------------
// The decoded value: (DFA state, code point count, exclusion node).

/** Code points the terminal can produce, as sorted disjoint intervals. */
type Intervals = readonly (readonly [number, number])[];

const ALL_SCALARS: Intervals = [
  [0, SURROGATE_LOW - 1],
  [SURROGATE_HIGH + 1, MAX_CODE_POINT],
];
const BMP_SCALARS: Intervals = [
  [0, SURROGATE_LOW - 1],
  [SURROGATE_HIGH + 1, 0xffff],
];

function withoutSurrogates(lo: number, hi: number): [number, number][] {
  const out: [number, number][] = [];
  if (lo < SURROGATE_LOW) out.push([lo, Math.min(hi, SURROGATE_LOW - 1)]);
  if (hi > SURROGATE_HIGH) out.push([Math.max(lo, SURROGATE_HIGH + 1), hi]);
  return out;
}

function overlapSize(lo: number, hi: number, set: Intervals): number {
  let size = 0;
  for (const [a, b] of set) {
    const from = Math.max(lo, a);
    const to = Math.min(hi, b);
    if (from <= to) size += to - from + 1;
  }
  return size;
}

class ValueLanguage {
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

// ---------------------------------------------------------------------------
// The byte-level terminal.

/** What the bytes so far leave open; one field of every composite state. */
const Kind = {
  /** Before the opening quote. */
  Open: 0,
  /** Between characters. */
  Content: 1,
  /** Inside a multi-byte UTF-8 sequence. */
  Utf8: 2,
  /** After a backslash. */
  Escape: 3,
  /** Inside \uXXXX. */
  Hex: 4,
  /** After the closing quote. */
  Closed: 5,
} as const;
type Kind = (typeof Kind)[keyof typeof Kind];

/** A byte inside a code point narrows it to an aligned sub-block: 6 bits per UTF-8 continuation, 4 per hex digit. */
const BITS_PER_UNIT: Record<number, number> = { [Kind.Utf8]: 6, [Kind.Hex]: 4 };

const SIMPLE_ESCAPES = new Map<number, number>([
  [0x22, 0x22],
  [0x5c, 0x5c],
  [0x2f, 0x2f],
  [0x62, 0x08],
  [0x66, 0x0c],
  [0x6e, 0x0a],
  [0x72, 0x0d],
  [0x74, 0x09],
]);

function hexDigitValue(byte: number): number {
  if (byte >= 0x30 && byte <= 0x39) return byte - 0x30;
  if (byte >= 0x41 && byte <= 0x46) return byte - 0x37;
  if (byte >= 0x61 && byte <= 0x66) return byte - 0x57;
  return -1;
}

/**
 * Composite states are interned: fields live in parallel arrays, and each
 * state has a lazily filled 256-entry transition row. A partial code point
 * is either exact (the interval [lo, hi] it may still become) or, when every
 * completion is valid and lands in one DFA class with no exclusion in play,
 * "uniform" (only the class matters), which keeps e.g. all 2-byte UTF-8 lead
 * bytes of a plain string on one state.
 */
class JsonStringTerminal implements ByteTerminal {
  readonly initial: number;
  private readonly kind: Kind[] = [];
  private readonly remaining: number[] = [];
  private readonly low: number[] = [];
  private readonly high: number[] = [];
  /** DFA class of a uniform partial code point, -1 when exact. */
  private readonly uniformClass: number[] = [];
  private readonly dfaState: number[] = [];
  private readonly count: number[] = [];
  private readonly node: number[] = [];
  private readonly rows: Int32Array[] = [];
  private readonly index = new Map<string, number>();
  private closed = DEAD;

  constructor(
    private readonly value: ValueLanguage,
    private readonly asciiOnly: boolean,
    readonly label: string,
  ) {
    const s = value.automaton.start;
    const n = value.initialNode;
    this.initial = value.live(s, 0, n) ? this.intern(Kind.Open, 0, 0, 0, -1, s, 0, n) : DEAD;
  }

  step(state: number, byte: number): number {
    if (state < 0) return DEAD;
    const row = this.rows[state];
    const known = row[byte];
    if (known !== UNKNOWN) return known;
    const next = this.transition(state, byte);
    row[byte] = next;
    return next;
  }

  isComplete(state: number): boolean {
    return state >= 0 && this.kind[state] === Kind.Closed;
  }

  private transition(state: number, byte: number): number {
    const s = this.dfaState[state];
    const c = this.count[state];
    const n = this.node[state];
    switch (this.kind[state]) {
      case Kind.Open:
        return byte === 0x22 ? this.intern(Kind.Content, 0, 0, 0, -1, s, c, n) : DEAD;
      case Kind.Content:
        return this.afterContent(byte, s, c, n);
      case Kind.Escape: {
        if (byte === 0x75 /* u */) return this.partial(Kind.Hex, 4, 0, 0xffff, s, c, n);
        const cp = SIMPLE_ESCAPES.get(byte);
        return cp === undefined ? DEAD : this.content(cp, s, c, n);
      }
      case Kind.Utf8:
      case Kind.Hex:
        return this.afterUnit(state, byte, s, c, n);
      case Kind.Closed:
        return DEAD;
    }
  }

  private afterContent(byte: number, s: number, c: number, n: number): number {
    if (byte === 0x22) return this.value.canEnd(s, c, n) ? this.closedState() : DEAD;
    if (byte === 0x5c) {
      return this.value.liveThroughSome(0, 0xffff, s, c, n) ? this.intern(Kind.Escape, 0, 0, 0, -1, s, c, n) : DEAD;
    }
    if (byte < 0x20) return DEAD;
    if (byte < 0x80) return this.content(byte, s, c, n);
    if (this.asciiOnly) return DEAD;
    let lo: number;
    let hi: number;
    let continuations: number;
    if (byte >= 0xc0 && byte <= 0xdf) {
      lo = Math.max((byte & 0x1f) << 6, 0x80);
      hi = ((byte & 0x1f) << 6) | 0x3f;
      continuations = 1;
    } else if (byte >= 0xe0 && byte <= 0xef) {
      lo = Math.max((byte & 0x0f) << 12, 0x800);
      hi = ((byte & 0x0f) << 12) | 0xfff;
      continuations = 2;
    } else if (byte >= 0xf0 && byte <= 0xf7) {
      lo = Math.max((byte & 0x07) << 18, 0x10000);
      hi = Math.min(((byte & 0x07) << 18) | 0x3ffff, MAX_CODE_POINT);
      continuations = 3;
    } else {
      return DEAD;
    }
    if (lo > hi) return DEAD;
    return this.partial(Kind.Utf8, continuations, lo, hi, s, c, n);
  }

  /** One more UTF-8 continuation byte or hex digit of a partial code point. */
  private afterUnit(state: number, byte: number, s: number, c: number, n: number): number {
    const kind = this.kind[state];
    const unit = kind === Kind.Utf8 ? ((byte & 0xc0) === 0x80 ? byte & 0x3f : -1) : hexDigitValue(byte);
    if (unit < 0) return DEAD;
    const remaining = this.remaining[state];
    const cls = this.uniformClass[state];
    if (cls >= 0) {
      if (remaining > 1) return this.intern(kind, remaining - 1, -1, -1, cls, s, c, n);
      const t = this.value.automaton.next(s, cls);
      return this.contentAfter(t, this.value.nextCount(c), OUTSIDE_EXCLUSIONS);
    }
    const bits = BITS_PER_UNIT[kind];
    const blockSize = 2 ** (bits * remaining);
    const subSize = 2 ** (bits * (remaining - 1));
    const base = Math.floor(this.low[state] / blockSize) * blockSize;
    const lo = Math.max(base + unit * subSize, this.low[state]);
    const hi = Math.min(base + (unit + 1) * subSize - 1, this.high[state]);
    if (lo > hi || withoutSurrogates(lo, hi).length === 0) return DEAD;
    if (remaining > 1) return this.partial(kind, remaining - 1, lo, hi, s, c, n);
    return this.content(lo, s, c, n);
  }

  /** Content state after code point `cp`, or DEAD when no accepted value goes on from there. */
  private content(cp: number, s: number, c: number, n: number): number {
    const automaton = this.value.automaton;
    const t = automaton.next(s, automaton.classOf(cp));
    const n1 = this.value.exclusions === null ? OUTSIDE_EXCLUSIONS : this.value.exclusions.next(n, cp);
    return this.contentAfter(t, this.value.nextCount(c), n1);
  }

  private contentAfter(s: number, c: number, n: number): number {
    if (s === DEAD || c === DEAD || !this.value.live(s, c, n)) return DEAD;
    return this.intern(Kind.Content, 0, 0, 0, -1, s, c, n);
  }

  /** A partial code point that may still become any scalar value in [lo, hi]. */
  private partial(kind: Kind, remaining: number, lo: number, hi: number, s: number, c: number, n: number): number {
    const exclusions = this.value.exclusions;
    // No excluded string continues with a code point in [lo, hi]: the value leaves the exclusions whatever comes.
    const n1 = exclusions !== null && exclusions.hasChildIn(n, lo, hi) ? n : OUTSIDE_EXCLUSIONS;
    const automaton = this.value.automaton;
    const cls = automaton.classOf(lo);
    const uniform =
      n1 === OUTSIDE_EXCLUSIONS &&
      hi - lo + 1 === 2 ** (BITS_PER_UNIT[kind] * remaining) &&
      (hi < SURROGATE_LOW || lo > SURROGATE_HIGH) &&
      automaton.classHigh(cls) >= hi;
    const key = uniform ? this.key(kind, remaining, -1, -1, cls, s, c, n1) : this.key(kind, remaining, lo, hi, -1, s, c, n1);
    const known = this.index.get(key);
    if (known !== undefined) return known;
    if (!this.value.liveThroughSome(lo, hi, s, c, n1)) return DEAD;
    return uniform ? this.intern(kind, remaining, -1, -1, cls, s, c, n1) : this.intern(kind, remaining, lo, hi, -1, s, c, n1);
  }

  private closedState(): number {
    if (this.closed === DEAD) this.closed = this.intern(Kind.Closed, 0, 0, 0, -1, 0, 0, 0);
    return this.closed;
  }

  private key(kind: Kind, remaining: number, lo: number, hi: number, cls: number, s: number, c: number, n: number): string {
    return `${kind},${remaining},${lo},${hi},${cls},${s},${c},${n}`;
  }

  private intern(kind: Kind, remaining: number, lo: number, hi: number, cls: number, s: number, c: number, n: number): number {
    const key = this.key(kind, remaining, lo, hi, cls, s, c, n);
    const known = this.index.get(key);
    if (known !== undefined) return known;
    const id = this.kind.length;
    this.kind.push(kind);
    this.remaining.push(remaining);
    this.low.push(lo);
    this.high.push(hi);
    this.uniformClass.push(cls);
    this.dfaState.push(s);
    this.count.push(c);
    this.node.push(n);
    this.rows.push(new Int32Array(256).fill(UNKNOWN));
    this.index.set(key, id);
    return id;
  }
}

// ---------------------------------------------------------------------------
// Construction and validation.

function lengthKeyword(name: "minLength" | "maxLength", value: number | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new StringConstraintError(name, `${name} must be a non-negative integer, got ${String(value)}`);
  }
  return value;
}

function compileKeyword(keyword: "pattern" | "format", source: string): CodePointAutomaton {
  try {
    const pattern = keyword === "format" ? formatPattern(source) : source;
    return compilePattern(pattern, { maxStates: STRING_TERMINAL_LIMITS.maxAutomatonStates });
  } catch (error) {
    throw new StringConstraintError(keyword, `${keyword} ${JSON.stringify(source)}: ${(error as Error).message}`, { cause: error });
  }
}

/** Built DFAs by (pattern, format, asciiOnly), oldest evicted first: schemas repeat across requests and a build costs milliseconds. */
const dfaCache = new Map<string, WritableDfa>();
const DFA_CACHE_ENTRIES = 64;

function writableDfaFor(c: StringConstraint, writable: Intervals): WritableDfa {
  const key = JSON.stringify([c.pattern ?? null, c.format ?? null, writable === BMP_SCALARS]);
  const cached = dfaCache.get(key);
  if (cached !== undefined) return cached;
  const parts: CodePointAutomaton[] = [];
  if (c.pattern !== undefined) parts.push(compileKeyword("pattern", c.pattern));
  if (c.format !== undefined) parts.push(compileKeyword("format", c.format));
  const automaton =
    parts.length === 0
      ? anyStringAutomaton()
      : parts.length === 1
        ? parts[0]
        : intersectAutomata(parts[0], parts[1], { maxStates: STRING_TERMINAL_LIMITS.maxAutomatonStates });
  const writableClass = new Uint8Array(automaton.classCount);
  for (let k = 0; k < automaton.classCount; k++) {
    writableClass[k] = overlapSize(automaton.classLow(k), automaton.classHigh(k), writable) > 0 ? 1 : 0;
  }
  let dfa: WritableDfa;
  try {
    // The lazy DFA grows here, so its state limit is hit here.
    dfa = new WritableDfa(automaton, writableClass);
  } catch (error) {
    const keyword = c.pattern !== undefined ? "pattern" : "format";
    throw new StringConstraintError(keyword, `${keyword} ${JSON.stringify(c[keyword])}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  if (dfaCache.size >= DFA_CACHE_ENTRIES) dfaCache.delete(dfaCache.keys().next().value as string);
  dfaCache.set(key, dfa);
  return dfa;
}

function buildExclusions(exclude: readonly string[] | undefined): ExclusionTrie | null {
  if (exclude === undefined || exclude.length === 0) return null;
  let total = 0;
  for (const value of exclude) {
    const length = [...value].length;
    if (length > STRING_TERMINAL_LIMITS.maxExcludedStringLength) {
      throw new StringConstraintError(
        "exclude",
        `an excluded string has ${length} code points; the limit is ${STRING_TERMINAL_LIMITS.maxExcludedStringLength}`,
      );
    }
    total += length;
  }
  if (total > STRING_TERMINAL_LIMITS.maxExcludedCodePoints) {
    throw new StringConstraintError(
      "exclude",
      `excluded strings total ${total} code points; the limit is ${STRING_TERMINAL_LIMITS.maxExcludedCodePoints}`,
    );
  }
  return new ExclusionTrie(exclude);
}

function labelOf(c: StringConstraint): string {
  const parts: string[] = [];
  if (c.minLength !== undefined) parts.push(`minLength=${c.minLength}`);
  if (c.maxLength !== undefined) parts.push(`maxLength=${c.maxLength}`);
  if (c.pattern !== undefined) parts.push(`pattern=${JSON.stringify(c.pattern)}`);
  if (c.format !== undefined) parts.push(`format=${c.format}`);
  if (c.exclude !== undefined && c.exclude.length > 0) parts.push(`exclude=${c.exclude.length}`);
  if (c.asciiOnly === true) parts.push("asciiOnly");
  return `string(${parts.join(",")})`;
}

/**
 * The terminal for one JSON string token under `c`. Throws
 * StringConstraintError (answer 400; `keyword` says which keyword) for
 * invalid or unsupported keywords and exceeded limits; an unsatisfiable
 * combination is not an error but a terminal whose `initial` is DEAD.
 */
export function jsonStringTerminal(c: StringConstraint): ByteTerminal {
  const min = lengthKeyword("minLength", c.minLength) ?? 0;
  const max = lengthKeyword("maxLength", c.maxLength) ?? Infinity;
  if (c.pattern !== undefined || c.format !== undefined) {
    const limit = STRING_TERMINAL_LIMITS.maxLengthWithPattern;
    const over = min > limit ? "minLength" : max !== Infinity && max > limit ? "maxLength" : null;
    if (over !== null) {
      throw new StringConstraintError(over, `${over} above ${limit} is not supported together with pattern or format`);
    }
  }
  const asciiOnly = c.asciiOnly === true;
  const writable = asciiOnly ? BMP_SCALARS : ALL_SCALARS;
  const dfa = writableDfaFor(c, writable);
  const exclusions = buildExclusions(c.exclude);
  const value = new ValueLanguage(dfa, writable, min, max, exclusions);
  return new JsonStringTerminal(value, asciiOnly, labelOf(c));
}
