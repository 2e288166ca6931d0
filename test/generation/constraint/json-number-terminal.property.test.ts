/**
 * The JSON number terminal against independent oracles, on random bounds and
 * texts (random bytes, number-like texts, and texts built from the bounds'
 * own digits so the edges get hit):
 * (a) a text is accepted iff it is in the capped language and ajv validates
 *     its JSON.parse value against {type, ...bounds};
 * (b) no dead ends: every non-DEAD state reached has a completion (found by
 *     BFS over the terminal) that ajv validates, isComplete agrees with ajv,
 *     and every DEAD prefix really has no valid completion;
 * (c) initial is DEAD iff no value at all is writable.
 * "Has a valid completion" is decided without the terminal: the completions
 * of a prefix are a few contiguous blocks of grid values, validity along a
 * block is convex (Number() is monotonic), so a binary search with ajv on
 * the lower bounds alone finds the first candidate of each block.
 */
import { Ajv, type ValidateFunction } from "ajv";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { DEAD, type ByteTerminal } from "../../../src/generation/constraint/byte-terminal.ts";
import {
  integerDigitCap,
  jsonNumberTerminal,
  MAX_FRACTION_DIGITS,
  type NumberConstraint,
} from "../../../src/generation/constraint/json-number-terminal.ts";

// --- ajv oracle -------------------------------------------------------------

const ajv = new Ajv();
const compiled = new Map<string, ValidateFunction>();

function validatorFor(schema: Record<string, unknown>): ValidateFunction {
  const key = JSON.stringify(schema);
  let validate = compiled.get(key);
  if (validate === undefined) {
    validate = ajv.compile(schema);
    compiled.set(key, validate);
  }
  return validate;
}

const BOUND_NAMES = ["minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"] as const;

function schemaOf(c: NumberConstraint, only?: ReadonlyArray<(typeof BOUND_NAMES)[number]>): Record<string, unknown> {
  const schema: Record<string, unknown> = { type: c.integer && only === undefined ? "integer" : "number" };
  for (const name of only ?? BOUND_NAMES) if (c[name] !== undefined) schema[name] = c[name];
  return schema;
}

interface Oracle {
  readonly c: NumberConstraint;
  readonly intDigitCap: number;
  readonly scale: number;
  readonly language: RegExp;
  readonly validate: ValidateFunction;
  readonly validateLower: ValidateFunction;
}

function oracleFor(c: NumberConstraint): Oracle {
  const intDigitCap = integerDigitCap(c);
  const fraction = c.integer ? "" : `(\\.[0-9]{1,${MAX_FRACTION_DIGITS}})?`;
  return {
    c,
    intDigitCap,
    scale: c.integer ? 0 : MAX_FRACTION_DIGITS,
    language: new RegExp(`^-?(0|[1-9][0-9]{0,${intDigitCap - 1}})${fraction}$`),
    validate: validatorFor(schemaOf(c)),
    validateLower: validatorFor(schemaOf(c, ["minimum", "exclusiveMinimum"])),
  };
}

function oracleAccepts(o: Oracle, text: string): boolean {
  return o.language.test(text) && o.validate(JSON.parse(text)) === true;
}

/** The number text of sign and magnitude * 10^-scale, with every fraction digit written. */
function gridText(o: Oracle, negative: boolean, magnitude: bigint): string {
  const unit = 10n ** BigInt(o.scale);
  const whole = (magnitude / unit).toString();
  const fraction = o.scale === 0 ? "" : `.${(magnitude % unit).toString().padStart(o.scale, "0")}`;
  return `${negative ? "-" : ""}${whole}${fraction}`;
}

/** Whether some grid value with this sign and magnitude in [first, last] is valid. */
function blockHasValid(o: Oracle, negative: boolean, first: bigint, last: bigint): boolean {
  // Index i walks the block by increasing value, where the lower bounds go from failing to holding.
  const magnitudeAt = (i: bigint): bigint => (negative ? last - i : first + i);
  const lowerHolds = (i: bigint): boolean => o.validateLower(JSON.parse(gridText(o, negative, magnitudeAt(i)))) === true;
  let lo = 0n;
  let hi = last - first;
  if (!lowerHolds(hi)) return false;
  while (lo < hi) {
    const mid = (lo + hi) / 2n;
    if (lowerHolds(mid)) hi = mid;
    else lo = mid + 1n;
  }
  return oracleAccepts(o, gridText(o, negative, magnitudeAt(lo)));
}

const PREFIX = /^(-?)(?:(0|[1-9][0-9]*)(?:(\.)([0-9]*))?)?$/;

/** Whether some text in the capped language that starts with `prefix` is valid, decided without the terminal. */
function hasValidCompletion(o: Oracle, prefix: string): boolean {
  const m = PREFIX.exec(prefix);
  if (m === null) return false;
  const negative = m[1] === "-";
  const int = m[2] ?? "";
  const dot = m[3] !== undefined;
  const frac = m[4] ?? "";
  if (int.length > o.intDigitCap || frac.length > MAX_FRACTION_DIGITS || (dot && o.c.integer)) return false;
  const unit = 10n ** BigInt(o.scale);
  const pow = (e: number): bigint => 10n ** BigInt(e);
  const blocks: Array<[bigint, bigint]> = [];
  if (int === "") {
    if (!negative && hasValidCompletion(o, "-")) return true;
    for (let n = 1; n <= o.intDigitCap; n++) blocks.push([n === 1 ? 0n : pow(n - 1) * unit, pow(n) * unit - 1n]);
  } else if (dot) {
    const g = frac.length;
    const width = pow(o.scale - g);
    const first = (BigInt(int) * pow(g) + (g === 0 ? 0n : BigInt(frac))) * width;
    blocks.push([first, first + width - 1n]);
  } else if (int === "0") {
    blocks.push([0n, unit - 1n]);
  } else {
    for (let n = int.length; n <= o.intDigitCap; n++) {
      const width = pow(n - int.length) * unit;
      blocks.push([BigInt(int) * width, (BigInt(int) + 1n) * width - 1n]);
    }
  }
  return blocks.some(([first, last]) => blockHasValid(o, negative, first, last));
}

// --- walking the terminal ---------------------------------------------------

const CANDIDATE_BYTES = [..."0123456789.-"].map((ch) => ch.charCodeAt(0));

/** Shortest bytes from `state` to a complete state, by BFS over the terminal's own transitions. */
function completionFrom(t: ByteTerminal, state: number, memo: Map<number, string | null>): string | null {
  const known = memo.get(state);
  if (known !== undefined) return known;
  const seen = new Set([state]);
  let frontier: Array<[number, string]> = [[state, ""]];
  let found: string | null = null;
  while (frontier.length > 0 && found === null) {
    const next: Array<[number, string]> = [];
    for (const [s, suffix] of frontier) {
      if (t.isComplete(s)) {
        found = suffix;
        break;
      }
      for (const byte of CANDIDATE_BYTES) {
        const to = t.step(s, byte);
        if (to !== DEAD && !seen.has(to)) {
          seen.add(to);
          next.push([to, suffix + String.fromCharCode(byte)]);
        }
      }
    }
    frontier = next;
  }
  memo.set(state, found);
  return found;
}

/** Runs (a) and (b) on one text: every prefix's state against the oracles, then the whole text. */
function checkWalk(c: NumberConstraint, text: string): void {
  const o = oracleFor(c);
  const t = jsonNumberTerminal(c);
  const memo = new Map<number, string | null>();
  const bytes = Buffer.from(text, "latin1");
  let state = t.initial;
  for (let i = 0; i <= bytes.length; i++) {
    const prefix = text.slice(0, i);
    if (state === DEAD) {
      expect(hasValidCompletion(o, prefix), `DEAD after ${JSON.stringify(prefix)}`).toBe(false);
      break;
    }
    const suffix = completionFrom(t, state, memo);
    expect(suffix, `no completion after ${JSON.stringify(prefix)}`).not.toBeNull();
    expect(oracleAccepts(o, prefix + suffix), `completion ${JSON.stringify(prefix + suffix)}`).toBe(true);
    expect(t.isComplete(state), `isComplete(${JSON.stringify(prefix)})`).toBe(oracleAccepts(o, prefix));
    if (i < bytes.length) state = t.step(state, bytes[i]);
  }
  const accepted = state !== DEAD && t.isComplete(state);
  expect(accepted, `accepts ${JSON.stringify(text)}`).toBe(oracleAccepts(o, text));
}

// --- generators -------------------------------------------------------------

/** Magnitudes stay below ~1e22 so the integer cap, and with it the oracle's blocks, stay small. */
const boundArb: fc.Arbitrary<number> = fc.oneof(
  fc.integer({ min: -30, max: 30 }),
  fc.integer({ min: -3000, max: 3000 }).map((n) => n / 100),
  fc.constantFrom(
    0, -0, 0.1, 0.2, 0.3, 0.1 + 0.2, -0.1, 1e-7, -1e-7, 1e-16, 5e-17, 1.5e-16, 1e-17, 123.456,
    1e15, -1e15, 999999999999999.9, 2 ** 53, 2 ** 53 + 2, -(2 ** 53), 1e20, -1e20, 1e21, 9.5e21,
  ),
  fc.double({ min: -1e22, max: 1e22, noNaN: true }),
  fc.double({ min: -2, max: 2, noNaN: true }),
);

const optionalBound = fc.option(boundArb, { nil: undefined, freq: 2 });

/** Independent bounds (often an empty range), or a lower bound with an upper one close above it. */
const constraintArb: fc.Arbitrary<NumberConstraint> = fc.oneof(
  fc.record({
    integer: fc.boolean(),
    minimum: optionalBound,
    maximum: optionalBound,
    exclusiveMinimum: optionalBound,
    exclusiveMaximum: optionalBound,
  }),
  fc
    .record({
      integer: fc.boolean(),
      lower: boundArb,
      width: fc.oneof(fc.constantFrom(0, 1e-16, 1e-15, 0.5, 1), fc.double({ min: 0, max: 100, noNaN: true })),
      exclusiveLower: fc.boolean(),
      exclusiveUpper: fc.boolean(),
    })
    .map(({ integer, lower, width, exclusiveLower, exclusiveUpper }) => ({
      integer,
      [exclusiveLower ? "exclusiveMinimum" : "minimum"]: lower,
      [exclusiveUpper ? "exclusiveMaximum" : "maximum"]: lower + width,
    })),
).map((c) => Object.fromEntries(Object.entries(c).filter(([, v]) => v !== undefined)) as unknown as NumberConstraint);

/** A bound's decimal without exponent: String(1e-7) is "1e-7", this is "0.0000001". */
function plainDecimal(x: number): string {
  const m = /^(-?)(\d+)(?:\.(\d+))?(?:e([+-]\d+))?$/.exec(String(x));
  if (m === null) throw new Error(`unexpected ${String(x)}`);
  const digits = m[2] + (m[3] ?? "");
  const point = m[2].length + Number(m[4] ?? 0);
  const padded = point <= 0 ? "0".repeat(1 - point) + digits : digits.padEnd(point, "0");
  const at = Math.max(point, 1);
  const whole = padded.slice(0, at).replace(/^0+(?=\d)/, "");
  const fraction = padded.slice(at).replace(/0+$/, "");
  return `${m[1]}${whole}${fraction === "" ? "" : `.${fraction}`}`;
}

const digitsArb = (maxLength: number): fc.Arbitrary<string> =>
  fc.array(fc.constantFrom(..."0123456789"), { maxLength }).map((d) => d.join(""));

const randomBytesText = fc
  .array(fc.constantFrom(..."0123456789.-", "0", "1", "9", "e", "+", " ", "\u00ff"), { maxLength: 22 })
  .map((chars) => chars.join(""));

const numberLikeText = fc
  .record({
    negative: fc.boolean(),
    whole: fc.oneof(fc.constant("0"), fc.integer({ min: 1, max: 9 }).chain((d) => digitsArb(21).map((rest) => `${d}${rest}`))),
    fraction: fc.option(digitsArb(18), { nil: undefined }),
  })
  .map(({ negative, whole, fraction }) => `${negative ? "-" : ""}${whole}${fraction === undefined ? "" : `.${fraction}`}`);

/** The digits of a bound (or its neighbours' ends), cut somewhere, with random digits after. */
function nearBoundText(c: NumberConstraint): fc.Arbitrary<string> {
  const bounds = BOUND_NAMES.flatMap((name) => (c[name] === undefined ? [] : [c[name]]));
  if (bounds.length === 0) return numberLikeText;
  return fc
    .record({
      bound: fc.constantFrom(...bounds),
      cut: fc.nat(40),
      tail: digitsArb(6),
      flipSign: fc.boolean(),
    })
    .map(({ bound, cut, tail, flipSign }) => {
      const text = plainDecimal(bound);
      const head = text.slice(0, Math.min(cut, text.length));
      const signed = flipSign ? (head.startsWith("-") ? head.slice(1) : `-${head}`) : head;
      return signed + tail;
    });
}

const textFor = (c: NumberConstraint): fc.Arbitrary<string> =>
  fc.oneof(randomBytesText, numberLikeText, nearBoundText(c), nearBoundText(c));

// --- properties --------------------------------------------------------------

describe("jsonNumberTerminal against ajv", () => {
  it("checks its own oracle helpers", () => {
    expect(plainDecimal(1e-7)).toBe("0.0000001");
    expect(plainDecimal(-1.5e21)).toBe("-1500000000000000000000");
    expect(plainDecimal(123.456)).toBe("123.456");
    expect(plainDecimal(-0)).toBe("0");
    const o = oracleFor({ integer: true, minimum: 5, maximum: 12 });
    expect(["1", "", "5", "-"].map((p) => hasValidCompletion(o, p))).toEqual([true, true, true, false]);
    expect(["2", "0", "13", "1.", "x"].map((p) => hasValidCompletion(o, p))).toEqual([false, false, false, false, false]);
  });

  it("(a, b) accepts exactly what ajv validates, with no dead ends and exact DEAD", () => {
    fc.assert(
      fc.property(
        constraintArb.chain((c) => fc.tuple(fc.constant(c), fc.array(textFor(c), { minLength: 1, maxLength: 4 }))),
        ([c, texts]) => {
          for (const text of texts) checkWalk(c, text);
        },
      ),
      { numRuns: 300 },
    );
  });

  it("(b) without bounds, every language prefix is live", () => {
    fc.assert(
      fc.property(fc.boolean(), numberLikeText, (integer, text) => {
        checkWalk({ integer }, integer ? text.replace(/\..*$/, "") : text);
      }),
      { numRuns: 100 },
    );
  });

  it("(c) initial is DEAD iff no value is writable", () => {
    fc.assert(
      fc.property(constraintArb, (c) => {
        const t = jsonNumberTerminal(c);
        expect(t.initial === DEAD).toBe(!hasValidCompletion(oracleFor(c), ""));
      }),
      { numRuns: 250 },
    );
  });
});
