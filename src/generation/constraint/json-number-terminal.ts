/**
 * The JSON number terminal: the bytes of one JSON number (JSON Schema
 * `type: "number"` or `"integer"`) whose value satisfies the schema's
 * minimum / maximum / exclusiveMinimum / exclusiveMaximum.
 *
 * Language: compact number text without exponent, `-?(0|[1-9][0-9]*)(\.[0-9]+)?`
 * (no fraction part for integers), with at most `integerDigitCap(c)` integer
 * digits and MAX_FRACTION_DIGITS fraction digits so a small model cannot run
 * digits forever. That is a SUBSET of the values the schema allows, never a
 * superset: every text accepted here is valid, some valid texts (exponents,
 * "1.0" for an integer, the 17th fraction digit) cannot be written.
 *
 * Bounds mean what a JSON Schema validator (ajv) checks on the parsed value:
 * a text is accepted iff Number(text) is finite and satisfies every given
 * bound (so "-0" is 0 for the comparisons). Comparing the written decimal to
 * String(bound) instead is not sound for exclusive bounds: with
 * exclusiveMaximum 1e15, "999999999999999.9999" is below the bound as a
 * decimal but parses to 1e15 itself. So each bound becomes the exact decimal
 * interval of texts that Number() rounds onto the allowed side: rounding is
 * monotonic, so "Number(v) >= t" holds exactly for v at or above the midpoint
 * between t and the double below it (at the midpoint itself when ties-to-even
 * picks t). All arithmetic is BigInt on a fixed decimal grid, so viability is
 * exact: a prefix is DEAD iff no completion within the caps is accepted.
 * The flip side of matching ajv: an inclusive bound admits decimals just past
 * it that parse onto it (maximum 1e20 admits "100000000000000008192").
 */
import { DEAD, type ByteTerminal } from "./byte-terminal.ts";

/** Integer digits every terminal allows; bounds with longer integer parts raise it (see integerDigitCap). */
export const MAX_INT_DIGITS = 16;
/** Fraction digits a `number` may carry: enough for any double's 17 significant digits once the integer part is non-zero. */
export const MAX_FRACTION_DIGITS = 16;

export interface NumberConstraint {
  integer: boolean;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
}

/**
 * The integer-digit cap for these bounds: MAX_INT_DIGITS, or more when a bound
 * (as written, or the double threshold it implies) has a longer integer part,
 * so that values near a huge bound stay writable.
 */
export function integerDigitCap(c: NumberConstraint): number {
  let cap = MAX_INT_DIGITS;
  for (const [name, bound] of givenBounds(c)) {
    cap = Math.max(cap, writtenIntegerDigits(bound));
    const threshold = thresholdOf(name, bound);
    if (Number.isFinite(threshold)) cap = Math.max(cap, exactIntegerDigits(threshold));
  }
  return cap;
}

export function jsonNumberTerminal(c: NumberConstraint): ByteTerminal {
  return new JsonNumberTerminal(c);
}

// ---------------------------------------------------------------------------
// Doubles, exactly.

type BoundName = "minimum" | "maximum" | "exclusiveMinimum" | "exclusiveMaximum";

function givenBounds(c: NumberConstraint): Array<[BoundName, number]> {
  const out: Array<[BoundName, number]> = [];
  for (const name of ["minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"] as const) {
    const bound = c[name];
    if (bound === undefined) continue;
    if (typeof bound !== "number" || !Number.isFinite(bound)) {
      throw new RangeError(`${name} must be a finite number, got ${String(bound)}`);
    }
    out.push([name, bound]);
  }
  return out;
}

const scratch = new DataView(new ArrayBuffer(8));

function bitsOf(x: number): bigint {
  scratch.setFloat64(0, x);
  return scratch.getBigUint64(0);
}

function fromBits(bits: bigint): number {
  scratch.setBigUint64(0, bits);
  return scratch.getFloat64(0);
}

/** The next double above x (+0 for -0 and 0 alike); Infinity above MAX_VALUE. */
function nextUp(x: number): number {
  if (x === Infinity) return x;
  const v = x + 0; // -0 -> +0
  if (v === 0) return Number.MIN_VALUE;
  const up = fromBits(v > 0 ? bitsOf(v) + 1n : bitsOf(v) - 1n);
  return up + 0;
}

function nextDown(x: number): number {
  return -nextUp(-x) + 0;
}

/**
 * The double threshold t a bound implies on Number(v): the lower ones as
 * "Number(v) >= t", the upper ones as "Number(v) <= t". Strict bounds move to
 * the neighbouring double, which is exact because Number(v) is itself a double.
 */
function thresholdOf(name: BoundName, bound: number): number {
  switch (name) {
    case "minimum":
    case "maximum":
      return bound + 0;
    case "exclusiveMinimum":
      return nextUp(bound);
    case "exclusiveMaximum":
      return nextDown(bound);
  }
}

/** An exact binary rational num * 2^exp: every finite double, and the midpoint of any two, is one. */
interface Dyadic {
  readonly num: bigint;
  readonly exp: number;
}

function dyadicOf(x: number): Dyadic {
  const bits = bitsOf(x);
  const biased = Number((bits >> 52n) & 0x7ffn);
  const fraction = bits & 0xfffffffffffffn;
  const magnitude = biased === 0 ? fraction : fraction | (1n << 52n);
  return { num: bits >> 63n === 1n ? -magnitude : magnitude, exp: (biased === 0 ? 1 : biased) - 1075 };
}

/** +-2^1024: the "next double" past +-MAX_VALUE, which Number() rounds to +-Infinity (and ajv rejects). */
const OVERFLOW: Dyadic = { num: 1n, exp: 1024 };
const NEGATIVE_OVERFLOW: Dyadic = { num: -1n, exp: 1024 };

function midpoint(a: Dyadic, b: Dyadic): Dyadic {
  const exp = Math.min(a.exp, b.exp);
  return { num: (a.num << BigInt(a.exp - exp)) + (b.num << BigInt(b.exp - exp)), exp: exp - 1 };
}

function floorDiv(n: bigint, d: bigint): bigint {
  const q = n / d;
  return n % d !== 0n && n < 0n ? q - 1n : q;
}

/** floor(x * 10^scale). */
function floorScaled(x: Dyadic, scale: number): bigint {
  const n = x.num * 10n ** BigInt(scale);
  return x.exp >= 0 ? n << BigInt(x.exp) : floorDiv(n, 1n << BigInt(-x.exp));
}

function ceilScaled(x: Dyadic, scale: number): bigint {
  return -floorScaled({ num: -x.num, exp: x.exp }, scale);
}

/** Ties round to the double whose significand is even, so at the midpoint the bound keeps or loses it on that bit. */
function hasEvenSignificand(x: number): boolean {
  return (bitsOf(x + 0) & 1n) === 0n;
}

/** The smallest v * 10^scale (v on the 10^-scale grid) with Number(v) >= t. */
function lowestGridValue(t: number, scale: number): bigint {
  const below = t === -Number.MAX_VALUE ? NEGATIVE_OVERFLOW : dyadicOf(nextDown(t));
  const edge = midpoint(below, dyadicOf(t));
  return hasEvenSignificand(t) ? ceilScaled(edge, scale) : floorScaled(edge, scale) + 1n;
}

/** The largest v * 10^scale (v on the 10^-scale grid) with Number(v) <= t. */
function highestGridValue(t: number, scale: number): bigint {
  const above = t === Number.MAX_VALUE ? OVERFLOW : dyadicOf(nextUp(t));
  const edge = midpoint(dyadicOf(t), above);
  return hasEvenSignificand(t) ? floorScaled(edge, scale) : ceilScaled(edge, scale) - 1n;
}

/** Integer digits of the bound as written by String(): "1e+21" has 22, "0.5" and "1e-7" have 1. */
function writtenIntegerDigits(bound: number): number {
  const m = /^-?(\d+)(?:\.\d+)?(?:e([+-]\d+))?$/.exec(String(bound));
  if (m === null) throw new RangeError(`unexpected number text ${String(bound)}`);
  const exponent = m[2] === undefined ? 0 : Number(m[2]);
  return exponent >= 0 && m[1] !== "0" ? m[1].length + exponent : 1;
}

function exactIntegerDigits(x: number): number {
  const d = dyadicOf(x);
  const whole = floorScaled({ num: d.num < 0n ? -d.num : d.num, exp: d.exp }, 0);
  return whole.toString().length;
}

// ---------------------------------------------------------------------------
// Prefixes and what can follow them.

/** The bytes so far, parsed: sign, integer digits, whether '.' was written, fraction digits. */
interface Prefix {
  readonly negative: boolean;
  readonly int: string;
  readonly dot: boolean;
  readonly frac: string;
}

const EMPTY: Prefix = { negative: false, int: "", dot: false, frac: "" };
const MINUS = 0x2d;
const DOT = 0x2e;
const ZERO = 0x30;
const NINE = 0x39;

/** Not yet computed, in a transition row. */
const UNKNOWN = -2;

/** Magnitudes (|value| * 10^scale) a sign may take; empty when lo > hi. */
interface MagnitudeRange {
  readonly lo: bigint;
  readonly hi: bigint;
}

/** Where one block of reachable magnitudes lies against the allowed range. */
type Relation = "n" | "a" | "l" | "h" | "b"; // none, all, straddles lo, straddles hi, straddles both

function relationOf(first: bigint, last: bigint, r: MagnitudeRange): Relation {
  if (last < r.lo || first > r.hi) return "n";
  const lo = first < r.lo;
  const hi = last > r.hi;
  return lo ? (hi ? "b" : "l") : hi ? "h" : "a";
}

interface Analysis {
  /** Equal keys have equal futures (same accepted suffixes), so they share one state. */
  readonly key: string;
  readonly live: boolean;
  readonly complete: boolean;
}

class JsonNumberTerminal implements ByteTerminal {
  readonly initial: number;
  readonly label: string;

  private readonly integer: boolean;
  private readonly intDigitCap: number;
  /** Grid step 10^-scale: every text this terminal can write is an integer multiple of it. */
  private readonly scale: number;
  private readonly pow10: bigint[];
  private readonly positive: MagnitudeRange;
  private readonly negative: MagnitudeRange;

  private readonly stateOfKey = new Map<string, number>();
  /** A prefix of each state; any one serves, since all prefixes of a state have the same future. */
  private readonly prefixes: Prefix[] = [];
  private readonly completes: boolean[] = [];
  private readonly rows: Int32Array[] = [];

  constructor(c: NumberConstraint) {
    const bounds = givenBounds(c);
    this.integer = c.integer;
    this.intDigitCap = integerDigitCap(c);
    this.scale = c.integer ? 0 : MAX_FRACTION_DIGITS;
    this.pow10 = Array.from({ length: this.intDigitCap + this.scale + 2 }, (_, i) => 10n ** BigInt(i));
    this.label = `${c.integer ? "integer" : "number"}(${bounds.map(([n, b]) => `${n}=${b}`).join(",")})`;

    // Finite results only (ajv rejects Infinity): the default thresholds are the largest doubles.
    let lower = -Number.MAX_VALUE;
    let upper = Number.MAX_VALUE;
    for (const [name, bound] of bounds) {
      const t = thresholdOf(name, bound);
      if (name === "minimum" || name === "exclusiveMinimum") lower = Math.max(lower, t);
      else upper = Math.min(upper, t);
    }
    const capMagnitude = this.pow10[this.intDigitCap + this.scale] - 1n;
    if (lower > upper || lower === Infinity || upper === -Infinity) {
      this.positive = this.negative = { lo: 1n, hi: 0n };
    } else {
      const lo = lowestGridValue(lower + 0, this.scale);
      const hi = highestGridValue(upper + 0, this.scale);
      this.positive = { lo: lo > 0n ? lo : 0n, hi: hi < capMagnitude ? hi : capMagnitude };
      this.negative = { lo: hi < 0n ? -hi : 0n, hi: -lo < capMagnitude ? -lo : capMagnitude };
    }
    this.initial = this.intern(EMPTY);
  }

  step(state: number, byte: number): number {
    if (state < 0 || byte < 0 || byte > 255) return DEAD;
    const row = this.rows[state];
    if (row === undefined) throw new RangeError(`${this.label}: no state ${state}`);
    const known = row[byte];
    if (known !== UNKNOWN) return known;
    const next = this.extend(this.prefixes[state], byte);
    return (row[byte] = next === null ? DEAD : this.intern(next));
  }

  isComplete(state: number): boolean {
    return state >= 0 && this.completes[state] === true;
  }

  /** The prefix plus one byte, or null where the language (with its caps) has no such prefix. */
  private extend(p: Prefix, byte: number): Prefix | null {
    if (byte === MINUS) {
      return p === EMPTY ? { ...EMPTY, negative: true } : null;
    }
    if (byte === DOT) {
      return !this.integer && !p.dot && p.int !== "" ? { ...p, dot: true } : null;
    }
    if (byte < ZERO || byte > NINE) return null;
    const digit = String.fromCharCode(byte);
    if (p.dot) return p.frac.length < MAX_FRACTION_DIGITS ? { ...p, frac: p.frac + digit } : null;
    if (p.int === "0" || p.int.length >= this.intDigitCap) return null;
    return { ...p, int: p.int + digit };
  }

  private intern(p: Prefix): number {
    const a = this.analyze(p);
    if (!a.live) return DEAD;
    const existing = this.stateOfKey.get(a.key);
    if (existing !== undefined) return existing;
    const state = this.prefixes.length;
    this.stateOfKey.set(a.key, state);
    this.prefixes.push(p);
    this.completes.push(a.complete);
    const row = new Int32Array(256).fill(DEAD);
    for (let b = ZERO; b <= NINE; b++) row[b] = UNKNOWN;
    row[DOT] = UNKNOWN;
    row[MINUS] = UNKNOWN;
    this.rows.push(row);
    return state;
  }

  /**
   * Key, liveness and completeness of a prefix. What can follow a prefix is
   * a few blocks of magnitudes (one per final integer length, or one for a
   * fraction); how each block lies against the allowed range decides the
   * future, and a block that straddles a range end belongs to exactly one
   * prefix of that length, so the relations (plus phase and digit count) are
   * a canonical key. Without bounds every block relates as "all", and the key
   * is just the phase and digit count.
   */
  private analyze(p: Prefix): Analysis {
    const sign = p.negative ? "-" : "+";
    const range = p.negative ? this.negative : this.positive;
    const nonEmpty = (r: MagnitudeRange): boolean => r.lo <= r.hi;
    if (p.int === "") {
      // Every grid magnitude up to the cap is writable, so a non-empty range is enough.
      const live = p.negative ? nonEmpty(this.negative) : nonEmpty(this.positive) || nonEmpty(this.negative);
      return { key: p.negative ? "-" : "start", live, complete: false };
    }
    const unit = this.pow10[this.scale];
    const whole = BigInt(p.int);
    if (p.dot) {
      const g = p.frac.length;
      const width = this.pow10[this.scale - g];
      const first = (whole * this.pow10[g] + (g === 0 ? 0n : BigInt(p.frac))) * width;
      const relation = relationOf(first, first + width - 1n, range);
      const complete = g > 0 && first >= range.lo && first <= range.hi;
      return { key: `${sign}f${g}${relation}`, live: relation !== "n", complete };
    }
    const value = whole * unit;
    const complete = value >= range.lo && value <= range.hi;
    if (p.int === "0") {
      const relation = relationOf(0n, unit - 1n, range);
      return { key: `${sign}z${relation}`, live: relation !== "n", complete };
    }
    const k = p.int.length;
    let relations = "";
    let live = false;
    for (let n = k; n <= this.intDigitCap; n++) {
      const width = this.pow10[n - k] * unit;
      const relation = relationOf(whole * width, (whole + 1n) * width - 1n, range);
      relations += relation;
      live ||= relation !== "n";
    }
    return { key: `${sign}i${k}${relations}`, live, complete };
  }
}
