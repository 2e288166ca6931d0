/**
 * The byte-level JSON string terminal: reads `"`, raw UTF-8 or escapes, and
 * the closing `"` one byte at a time (the accepted text is described in
 * json-string-terminal.ts), tracking partial code points as intervals and
 * handing out a state only when ValueLanguage says the decoded value can
 * still be completed. Its own file because byte syntax and the decoded
 * value's language are separate concerns that meet only at `live`.
 */
import { DEAD, type ByteTerminal } from "./byte-terminal.ts";
import { MAX_CODE_POINT } from "./code-point-automaton.ts";
import { OUTSIDE_EXCLUSIONS } from "./exclusion-trie.ts";
import { SURROGATE_HIGH, SURROGATE_LOW, withoutSurrogates } from "./scalar-intervals.ts";
import type { ValueLanguage } from "./string-value-language.ts";

/** A transition-row entry not computed yet; distinct from DEAD (-1) and every state id. */
const UNKNOWN = -2;

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
export class JsonStringTerminal implements ByteTerminal {
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
  private readonly classes = new Map<string, number>();
  private closed = DEAD;

  constructor(
    private readonly value: ValueLanguage,
    private readonly asciiOnly: boolean,
    readonly label: string,
    /** No pattern, format or exclusions: whether a value can go on depends on its length alone. */
    private readonly countsOnly = false,
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

  /**
   * With lengths only, a byte adds at most one code point, so within
   * `horizon` bytes a state can only tell how far it is from minLength and
   * from maxLength up to horizon + 1: counts further from both behave alike.
   * With a pattern, liveness can depend on the exact count (a pattern of
   * even lengths), so every state stays its own class.
   */
  maskClass(state: number, horizon: number): number {
    if (!this.countsOnly || state < 0) return state;
    const c = this.count[state];
    const cap = horizon + 1;
    const belowMin = Math.min(Math.max(this.value.min - c, 0), cap);
    const room = this.value.max === Infinity ? cap : Math.min(this.value.max - c, cap);
    const key = this.key(this.kind[state], this.remaining[state], this.low[state], this.high[state], this.uniformClass[state], this.dfaState[state], -1, this.node[state]) + `|${belowMin},${room}`;
    let id = this.classes.get(key);
    if (id === undefined) {
      id = this.classes.size;
      this.classes.set(key, id);
    }
    return id;
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
