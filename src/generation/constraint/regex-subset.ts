/**
 * JSON Schema `pattern` as a deterministic automaton over Unicode code points.
 *
 * The subset is the part of ECMAScript regex syntax (with the `u` flag, as
 * ajv compiles patterns) that denotes a regular language:
 * - literals (any code point, astral ones included) and escapes: \d \D \w
 *   \W \s \S, \n \r \t \f \v \0, \cX, \xHH, \uXXXX (an escaped surrogate
 *   pair is one code point), \u{X...}, and escaped syntax characters
 *   ^ $ \ . * + ? ( ) [ ] { } | / -;
 * - `.` (any code point but \n \r U+2028 U+2029);
 * - classes [...] and [^...] with ranges and class escapes, \b = U+0008 there;
 * - groups (...) and (?:...), alternation |;
 * - quantifiers * + ? {n} {n,} {n,m}, bounds up to 1000, lazy forms alike;
 * - `^` at the start and `$` at the end of a top-level alternative.
 * Everything else (backreferences, lookaround, word boundaries, named
 * groups, inline modifiers, property escapes, anchors elsewhere, lone
 * `{` `}` `]`) throws UnsupportedPatternError naming the construct and its
 * UTF-16 offset, so the caller can reject the schema instead of silently
 * constraining to something else. The one leniency against `u` mode is
 * `\-` outside a class, accepted as "-". A pattern has no flags.
 *
 * JSON Schema patterns are searches, not full matches: `abc` accepts any
 * string containing "abc". Each top-level alternative without `^` gets a
 * leading any-code-point loop and each without `$` a trailing one. Those
 * loops accept every code point, line terminators included, because the
 * search may skip over anything.
 *
 * The NFA is determinized lazily: a DFA state is an interned set of NFA
 * nodes, and transitions are memoized per (state, class) where classes are
 * the intervals cut out by every boundary of every character set in the
 * pattern, so code points in one class behave identically everywhere. No
 * table ever spans all 1.1M code points.
 */
import { DEAD } from "./byte-terminal.ts";

export const MAX_CODE_POINT = 0x10ffff;
/** `{n,m}` bounds above this are rejected: they make large automata for no realistic schema. */
export const MAX_QUANTIFIER_BOUND = 1000;
/** Default cap on DFA states; subset construction can explode (e.g. `a.{20}` unanchored). */
export const DEFAULT_MAX_DFA_STATES = 5000;
/** Cap on NFA nodes, reached by nested counted repetition such as `(a{1000}){1000}`. */
export const MAX_NFA_NODES = 50_000;

/** The pattern uses syntax outside the supported subset, or is not a valid pattern at all. */
export class UnsupportedPatternError extends Error {
  constructor(
    readonly construct: string,
    readonly offset: number,
    readonly pattern: string,
  ) {
    super(`unsupported or invalid regex construct ${construct} at offset ${offset} in pattern ${JSON.stringify(pattern)}`);
    this.name = "UnsupportedPatternError";
  }
}

/** The pattern is in the subset but its automaton would exceed a size limit. */
export class PatternTooComplexError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "PatternTooComplexError";
  }
}

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

// ---------------------------------------------------------------------------
// Code point sets: sorted, disjoint, non-adjacent [lo, hi] pairs, flattened.

type CodePointSet = readonly number[];

function normalizeSet(pairs: number[]): number[] {
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

function complementSet(set: CodePointSet): number[] {
  const out: number[] = [];
  let from = 0;
  for (let i = 0; i < set.length; i += 2) {
    if (set[i] > from) out.push(from, set[i] - 1);
    from = set[i + 1] + 1;
  }
  if (from <= MAX_CODE_POINT) out.push(from, MAX_CODE_POINT);
  return out;
}

function setContains(set: CodePointSet, cp: number): boolean {
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

const DIGIT: CodePointSet = [0x30, 0x39];
const WORD: CodePointSet = normalizeSet([0x30, 0x39, 0x41, 0x5a, 0x5f, 0x5f, 0x61, 0x7a]);
/** ECMAScript WhiteSpace and LineTerminator, what `\s` matches. */
const SPACE: CodePointSet = normalizeSet([
  0x09, 0x0d, 0x20, 0x20, 0xa0, 0xa0, 0x1680, 0x1680, 0x2000, 0x200a, 0x2028, 0x2029, 0x202f, 0x202f, 0x205f, 0x205f,
  0x3000, 0x3000, 0xfeff, 0xfeff,
]);
const LINE_TERMINATORS: CodePointSet = normalizeSet([0x0a, 0x0a, 0x0d, 0x0d, 0x2028, 0x2029]);
const DOT: CodePointSet = complementSet(LINE_TERMINATORS);
const ANY: CodePointSet = [0, MAX_CODE_POINT];

// ---------------------------------------------------------------------------
// Syntax tree.

type RegexNode =
  | { readonly kind: "chars"; readonly set: CodePointSet }
  | { readonly kind: "sequence"; readonly items: readonly RegexNode[] }
  | { readonly kind: "alternation"; readonly options: readonly RegexNode[] }
  | { readonly kind: "repeat"; readonly item: RegexNode; readonly min: number; readonly max: number };

interface TopLevelAlternative {
  readonly anchoredStart: boolean;
  readonly anchoredEnd: boolean;
  readonly body: RegexNode;
}

/** Characters that ECMAScript lets (and `u` mode requires) one to escape to mean themselves. */
const SYNTAX_CHARACTERS = new Set(Array.from("^$\\.*+?()[]{}|/-", (c) => c.codePointAt(0) as number));

const isDigit = (cp: number): boolean => cp >= 0x30 && cp <= 0x39;
const hexValue = (cp: number): number =>
  cp >= 0x30 && cp <= 0x39 ? cp - 0x30 : cp >= 0x41 && cp <= 0x46 ? cp - 0x37 : cp >= 0x61 && cp <= 0x66 ? cp - 0x57 : -1;

/** A class atom is either one code point (may start a range) or a class escape like `\d` (may not). */
type ClassAtom = { readonly codePoint: number } | { readonly set: CodePointSet };

class PatternParser {
  private readonly chars: number[];
  /** UTF-16 offset of each code point, so errors point where an editor would. */
  private readonly offsets: number[];
  private pos = 0;

  constructor(private readonly source: string) {
    this.chars = [];
    this.offsets = [];
    let offset = 0;
    for (const ch of source) {
      this.chars.push(ch.codePointAt(0) as number);
      this.offsets.push(offset);
      offset += ch.length;
    }
    this.offsets.push(offset);
  }

  parse(): TopLevelAlternative[] {
    const alternatives: TopLevelAlternative[] = [];
    for (;;) {
      alternatives.push(this.topLevelAlternative());
      if (this.atEnd()) return alternatives;
      if (this.peek() === 0x7c /* | */) {
        this.pos++;
        continue;
      }
      throw this.error("unmatched ')'", this.pos);
    }
  }

  private topLevelAlternative(): TopLevelAlternative {
    let anchoredStart = false;
    if (this.peek() === 0x5e /* ^ */) {
      anchoredStart = true;
      this.pos++;
    }
    const items: RegexNode[] = [];
    let anchoredEnd = false;
    while (!this.atEnd() && this.peek() !== 0x7c && this.peek() !== 0x29) {
      if (this.peek() === 0x24 /* $ */) {
        const after = this.chars[this.pos + 1];
        if (after === undefined || after === 0x7c) {
          anchoredEnd = true;
          this.pos++;
          break;
        }
        throw this.error("anchor '$' not at the end of the pattern", this.pos);
      }
      items.push(this.quantified());
    }
    return { anchoredStart, anchoredEnd, body: { kind: "sequence", items } };
  }

  private disjunction(): RegexNode {
    const options: RegexNode[] = [this.sequence()];
    while (this.peek() === 0x7c) {
      this.pos++;
      options.push(this.sequence());
    }
    return options.length === 1 ? options[0] : { kind: "alternation", options };
  }

  private sequence(): RegexNode {
    const items: RegexNode[] = [];
    while (!this.atEnd() && this.peek() !== 0x7c && this.peek() !== 0x29) {
      if (this.peek() === 0x24) throw this.error("anchor '$' not at the end of the pattern", this.pos);
      items.push(this.quantified());
    }
    return { kind: "sequence", items };
  }

  private quantified(): RegexNode {
    const item = this.atom();
    const bounds = this.quantifier();
    if (bounds === null) return item;
    if (this.peek() === 0x3f /* lazy ? */) this.pos++;
    if (this.quantifierStartsHere()) throw this.error("nothing to repeat (quantifier after quantifier)", this.pos);
    return { kind: "repeat", item, min: bounds.min, max: bounds.max };
  }

  private quantifierStartsHere(): boolean {
    const c = this.peek();
    if (c === 0x2a || c === 0x2b || c === 0x3f) return true;
    if (c !== 0x7b) return false;
    const save = this.pos;
    const bounds = this.braceQuantifier(false);
    this.pos = save;
    return bounds !== null;
  }

  private quantifier(): { min: number; max: number } | null {
    const c = this.peek();
    if (c === 0x2a) return this.pos++, { min: 0, max: Infinity };
    if (c === 0x2b) return this.pos++, { min: 1, max: Infinity };
    if (c === 0x3f) return this.pos++, { min: 0, max: 1 };
    if (c === 0x7b) {
      const start = this.pos;
      const bounds = this.braceQuantifier(true);
      if (bounds === null) throw this.error("lone '{' (not a quantifier)", start);
      return bounds;
    }
    return null;
  }

  /** `{n}`, `{n,}` or `{n,m}` at the current position, or null (position restored) when it is not one. */
  private braceQuantifier(check: boolean): { min: number; max: number } | null {
    const start = this.pos;
    this.pos++;
    const min = this.digits();
    if (min === null) return (this.pos = start), null;
    let max = min;
    if (this.peek() === 0x2c /* , */) {
      this.pos++;
      max = this.digits() ?? Infinity;
    }
    if (this.peek() !== 0x7d /* } */) return (this.pos = start), null;
    this.pos++;
    if (check) {
      if (min > MAX_QUANTIFIER_BOUND || (max !== Infinity && max > MAX_QUANTIFIER_BOUND)) {
        throw this.error(`quantifier bound above ${MAX_QUANTIFIER_BOUND}`, start);
      }
      if (max < min) throw this.error("quantifier bounds out of order", start);
    }
    return { min, max };
  }

  private digits(): number | null {
    const from = this.pos;
    while (isDigit(this.peek())) this.pos++;
    if (this.pos === from) return null;
    return Number(String.fromCodePoint(...this.chars.slice(from, this.pos)));
  }

  private atom(): RegexNode {
    const at = this.pos;
    const c = this.chars[this.pos++];
    switch (c) {
      case 0x28 /* ( */:
        return this.group(at);
      case 0x5b /* [ */:
        return { kind: "chars", set: this.characterClass(at) };
      case 0x2e /* . */:
        return { kind: "chars", set: DOT };
      case 0x5c /* \ */: {
        const escape = this.escape(false, at);
        return { kind: "chars", set: "set" in escape ? escape.set : [escape.codePoint, escape.codePoint] };
      }
      case 0x2a:
      case 0x2b:
      case 0x3f:
        throw this.error(`nothing to repeat ('${String.fromCodePoint(c)}')`, at);
      case 0x7b: {
        this.pos = at;
        if (this.braceQuantifier(false) !== null) throw this.error("nothing to repeat ('{')", at);
        throw this.error("lone '{' (not a quantifier)", at);
      }
      case 0x5e:
        throw this.error("anchor '^' not at the start of the pattern", at);
      case 0x5d:
      case 0x7d:
        // Literal only outside `u` mode; ajv compiles with `u`, where these are syntax errors.
        throw this.error(`lone '${String.fromCodePoint(c)}'`, at);
      default:
        return { kind: "chars", set: [c, c] };
    }
  }

  private group(at: number): RegexNode {
    if (this.peek() === 0x3f /* ? */) {
      const next = this.chars[this.pos + 1];
      const after = this.chars[this.pos + 2];
      if (next === 0x3a /* : */) {
        this.pos += 2;
      } else if (next === 0x3d) {
        throw this.error("lookahead '(?='", at);
      } else if (next === 0x21) {
        throw this.error("negative lookahead '(?!'", at);
      } else if (next === 0x3c && after === 0x3d) {
        throw this.error("lookbehind '(?<='", at);
      } else if (next === 0x3c && after === 0x21) {
        throw this.error("negative lookbehind '(?<!'", at);
      } else if (next === 0x3c) {
        throw this.error("named group '(?<name>'", at);
      } else {
        throw this.error("inline flags / modifier group '(?'", at);
      }
    }
    const inner = this.disjunction();
    if (this.peek() !== 0x29) throw this.error("unterminated group '('", at);
    this.pos++;
    return inner;
  }

  private characterClass(at: number): CodePointSet {
    let negated = false;
    if (this.peek() === 0x5e) {
      negated = true;
      this.pos++;
    }
    const pairs: number[] = [];
    for (;;) {
      if (this.atEnd()) throw this.error("unterminated character class '['", at);
      if (this.peek() === 0x5d /* ] */) {
        this.pos++;
        break;
      }
      const atomAt = this.pos;
      const first = this.classAtom();
      if (this.peek() === 0x2d /* - */ && this.chars[this.pos + 1] !== undefined && this.chars[this.pos + 1] !== 0x5d) {
        this.pos++;
        const last = this.classAtom();
        if ("set" in first || "set" in last) throw this.error("class escape as a range bound", atomAt);
        if (first.codePoint > last.codePoint) throw this.error("character class range out of order", atomAt);
        pairs.push(first.codePoint, last.codePoint);
      } else if ("set" in first) {
        pairs.push(...first.set);
      } else {
        pairs.push(first.codePoint, first.codePoint);
      }
    }
    const set = normalizeSet(pairs);
    return negated ? complementSet(set) : set;
  }

  private classAtom(): ClassAtom {
    const at = this.pos;
    const c = this.chars[this.pos++];
    if (c === 0x5c) return this.escape(true, at);
    return { codePoint: c };
  }

  /** After a backslash at `at`; in a class, `\b` is backspace and `\-` is allowed. */
  private escape(inClass: boolean, at: number): ClassAtom {
    if (this.atEnd()) throw this.error("'\\' at end of pattern", at);
    const c = this.chars[this.pos++];
    switch (c) {
      case 0x64 /* d */:
        return { set: DIGIT };
      case 0x44 /* D */:
        return { set: complementSet(DIGIT) };
      case 0x77 /* w */:
        return { set: WORD };
      case 0x57 /* W */:
        return { set: complementSet(WORD) };
      case 0x73 /* s */:
        return { set: SPACE };
      case 0x53 /* S */:
        return { set: complementSet(SPACE) };
      case 0x6e /* n */:
        return { codePoint: 0x0a };
      case 0x72 /* r */:
        return { codePoint: 0x0d };
      case 0x74 /* t */:
        return { codePoint: 0x09 };
      case 0x66 /* f */:
        return { codePoint: 0x0c };
      case 0x76 /* v */:
        return { codePoint: 0x0b };
      case 0x62 /* b */:
        if (inClass) return { codePoint: 0x08 };
        throw this.error("word boundary '\\b'", at);
      case 0x42 /* B */:
        throw this.error("word boundary '\\B'", at);
      case 0x30 /* 0 */:
        if (isDigit(this.peek())) throw this.error("octal escape", at);
        return { codePoint: 0 };
      case 0x6b /* k */:
        throw this.error("named backreference '\\k'", at);
      case 0x70 /* p */:
      case 0x50 /* P */:
        throw this.error(`unicode property escape '\\${String.fromCodePoint(c)}'`, at);
      case 0x63 /* c */: {
        const letter = this.peek();
        if ((letter >= 0x41 && letter <= 0x5a) || (letter >= 0x61 && letter <= 0x7a)) {
          this.pos++;
          return { codePoint: letter % 32 };
        }
        throw this.error("malformed control escape '\\c'", at);
      }
      case 0x78 /* x */: {
        const value = this.hexDigits(2);
        if (value === null) throw this.error("malformed '\\x' escape", at);
        return { codePoint: value };
      }
      case 0x75 /* u */:
        return { codePoint: this.unicodeEscape(at) };
      default:
        if (isDigit(c)) throw this.error(`backreference '\\${String.fromCodePoint(c)}'`, at);
        if (SYNTAX_CHARACTERS.has(c)) return { codePoint: c };
        throw this.error(`unknown escape '\\${String.fromCodePoint(c)}'`, at);
    }
  }

  /** After `\u`: `{hex}` or four hex digits, joining an escaped surrogate pair into one code point as `u` mode does. */
  private unicodeEscape(at: number): number {
    if (this.peek() === 0x7b) {
      this.pos++;
      let value = 0;
      let count = 0;
      while (hexValue(this.peek()) >= 0) {
        value = value * 16 + hexValue(this.chars[this.pos++]);
        count++;
        if (value > MAX_CODE_POINT) throw this.error("'\\u{...}' escape above U+10FFFF", at);
      }
      if (count === 0 || this.peek() !== 0x7d) throw this.error("malformed '\\u{...}' escape", at);
      this.pos++;
      return value;
    }
    const unit = this.hexDigits(4);
    if (unit === null) throw this.error("malformed '\\u' escape", at);
    if (unit >= 0xd800 && unit <= 0xdbff && this.peek() === 0x5c && this.chars[this.pos + 1] === 0x75) {
      const save = this.pos;
      this.pos += 2;
      const low = this.hexDigits(4);
      if (low !== null && low >= 0xdc00 && low <= 0xdfff) return 0x10000 + ((unit - 0xd800) << 10) + (low - 0xdc00);
      this.pos = save;
    }
    return unit;
  }

  private hexDigits(count: number): number | null {
    let value = 0;
    for (let i = 0; i < count; i++) {
      const digit = hexValue(this.chars[this.pos + i] ?? -1);
      if (digit < 0) return null;
      value = value * 16 + digit;
    }
    this.pos += count;
    return value;
  }

  private peek(): number {
    return this.chars[this.pos] ?? -1;
  }

  private atEnd(): boolean {
    return this.pos >= this.chars.length;
  }

  private error(construct: string, pos: number): UnsupportedPatternError {
    return new UnsupportedPatternError(construct, this.offsets[Math.min(pos, this.offsets.length - 1)], this.source);
  }
}

// ---------------------------------------------------------------------------
// Thompson NFA: each node has at most one code-point-set edge plus epsilon edges.

class Nfa {
  readonly setOf: number[] = [];
  readonly target: number[] = [];
  readonly epsilon: number[][] = [];
  readonly sets: CodePointSet[] = [];
  private readonly setIds = new Map<string, number>();

  node(): number {
    if (this.setOf.length >= MAX_NFA_NODES) {
      throw new PatternTooComplexError(`pattern needs more than ${MAX_NFA_NODES} automaton nodes (nested repetition)`);
    }
    this.setOf.push(-1);
    this.target.push(-1);
    this.epsilon.push([]);
    return this.setOf.length - 1;
  }

  link(from: number, to: number): void {
    this.epsilon[from].push(to);
  }

  /** A fresh node reached from `from` by one code point of `set`. */
  chars(from: number, set: CodePointSet): number {
    const key = set.join(",");
    let id = this.setIds.get(key);
    if (id === undefined) {
      id = this.sets.length;
      this.sets.push(set);
      this.setIds.set(key, id);
    }
    // Fragments always end on a fresh node, but guard the one-edge invariant anyway.
    let source = from;
    if (this.setOf[source] !== -1) {
      source = this.node();
      this.link(from, source);
    }
    const to = this.node();
    this.setOf[source] = id;
    this.target[source] = to;
    return to;
  }

  /** Adds `regex` starting at `from`; returns the node where it ends. */
  compile(regex: RegexNode, from: number): number {
    switch (regex.kind) {
      case "chars":
        return this.chars(from, regex.set);
      case "sequence": {
        let at = from;
        for (const item of regex.items) at = this.compile(item, at);
        return at;
      }
      case "alternation": {
        const end = this.node();
        for (const option of regex.options) {
          const start = this.node();
          this.link(from, start);
          this.link(this.compile(option, start), end);
        }
        return end;
      }
      case "repeat": {
        let at = from;
        for (let i = 0; i < regex.min; i++) {
          const next = this.node();
          this.link(at, next);
          at = this.compile(regex.item, next);
        }
        if (regex.max === Infinity) {
          const loop = this.node();
          this.link(at, loop);
          const body = this.node();
          this.link(loop, body);
          this.link(this.compile(regex.item, body), loop);
          const end = this.node();
          this.link(loop, end);
          return end;
        }
        const end = this.node();
        for (let i = regex.min; i < regex.max; i++) {
          this.link(at, end);
          const next = this.node();
          this.link(at, next);
          at = this.compile(regex.item, next);
        }
        this.link(at, end);
        return end;
      }
    }
  }
}

// ---------------------------------------------------------------------------
// Lazy subset construction.

const UNKNOWN = -2;

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

function classIndex(lows: Int32Array, cp: number): number {
  let lo = 0;
  let hi = lows.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (lows[mid] <= cp) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

class LazyDfa implements CodePointAutomaton {
  readonly start: number;
  readonly classCount: number;
  private readonly lows: Int32Array;
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
    this.lows = partitionLows(nfa.sets);
    this.classCount = this.lows.length;
    this.membership = nfa.sets.map((set) => {
      const member = new Uint8Array(this.classCount);
      for (let k = 0; k < this.classCount; k++) member[k] = setContains(set, this.lows[k]) ? 1 : 0;
      return member;
    });
    this.mark = new Uint32Array(nfa.setOf.length);
    this.start = this.intern(this.closure([startNode]));
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

/**
 * Compiles a JSON Schema `pattern` (search semantics, as ajv's `new
 * RegExp(pattern, "u").test(s)`). Throws UnsupportedPatternError for syntax
 * outside the subset and PatternTooComplexError for size limits; the DFA
 * itself grows lazily, so the state limit can also be hit later in `next`.
 */
export function compilePattern(source: string, options: AutomatonOptions = {}): CodePointAutomaton {
  const alternatives = new PatternParser(source).parse();
  const nfa = new Nfa();
  const start = nfa.node();
  const final = nfa.node();
  const prefixLoop = nfa.node();
  const suffixLoop = nfa.node();
  // The loops are added before the bodies so every body node gets a higher id; order is irrelevant to correctness.
  nfa.link(suffixLoop, final);
  const suffixNext = nfa.chars(suffixLoop, ANY);
  nfa.link(suffixNext, suffixLoop);
  const prefixNext = nfa.chars(prefixLoop, ANY);
  nfa.link(prefixNext, prefixLoop);
  // Without this guard an all-anchored pattern would keep a useless loop alive in every state and never reach DEAD.
  if (alternatives.some((alternative) => !alternative.anchoredStart)) nfa.link(start, prefixLoop);
  for (const alternative of alternatives) {
    const entry = nfa.node();
    nfa.link(alternative.anchoredStart ? start : prefixLoop, entry);
    const exit = nfa.compile(alternative.body, entry);
    nfa.link(exit, alternative.anchoredEnd ? final : suffixLoop);
  }
  return new LazyDfa(nfa, start, final, suffixLoop, options.maxStates ?? DEFAULT_MAX_DFA_STATES);
}

/** The automaton of "every string": one state, one class. */
export function anyStringAutomaton(): CodePointAutomaton {
  return {
    start: 0,
    classCount: 1,
    classOf: () => 0,
    classLow: () => 0,
    classHigh: () => MAX_CODE_POINT,
    next: () => 0,
    isAccepting: () => true,
  };
}

class ProductAutomaton implements CodePointAutomaton {
  readonly start: number;
  readonly classCount: number;
  private readonly lows: Int32Array;
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
    const cuts = new Set<number>();
    for (let k = 0; k < left.classCount; k++) cuts.add(left.classLow(k));
    for (let k = 0; k < right.classCount; k++) cuts.add(right.classLow(k));
    this.lows = Int32Array.from([...cuts].sort((a, b) => a - b));
    this.classCount = this.lows.length;
    this.leftClass = this.lows.map((low) => left.classOf(low));
    this.rightClass = this.lows.map((low) => right.classOf(low));
    this.start = this.intern(left.start, right.start);
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

/** Strings accepted by both automata (e.g. a `pattern` and a `format` on one schema). */
export function intersectAutomata(
  left: CodePointAutomaton,
  right: CodePointAutomaton,
  options: AutomatonOptions = {},
): CodePointAutomaton {
  return new ProductAutomaton(left, right, options.maxStates ?? DEFAULT_MAX_DFA_STATES);
}

/** Runs the automaton over the code points of `text`. */
export function automatonAccepts(automaton: CodePointAutomaton, text: string): boolean {
  let state = automaton.start;
  for (const ch of text) {
    state = automaton.next(state, automaton.classOf(ch.codePointAt(0) as number));
    if (state === DEAD) return false;
  }
  return automaton.isAccepting(state);
}
