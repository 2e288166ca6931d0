/**
 * The JSON number terminal on hand-picked texts: the language and its caps,
 * exact prefix viability against bounds (negative, straddling zero, exclusive,
 * fractional, huge, tiny, -0), and the bounds where no value exists at all.
 */
import { describe, expect, it } from "vitest";
import { DEAD, type ByteTerminal } from "../../../src/generation/constraint/byte-terminal.ts";
import {
  integerDigitCap,
  jsonNumberTerminal,
  MAX_FRACTION_DIGITS,
  MAX_INT_DIGITS,
  type NumberConstraint,
} from "../../../src/generation/constraint/json-number-terminal.ts";

type Verdict = "dead" | "live" | "complete";

function stateAfter(t: ByteTerminal, text: string): number {
  let state = t.initial;
  for (const byte of Buffer.from(text, "latin1")) {
    if (state === DEAD) return DEAD;
    state = t.step(state, byte);
  }
  return state;
}

function verdict(t: ByteTerminal, text: string): Verdict {
  const state = stateAfter(t, text);
  return state === DEAD ? "dead" : t.isComplete(state) ? "complete" : "live";
}

/** Asserts each text's verdict, reporting all of them at once on failure. */
function expectVerdicts(c: NumberConstraint, expected: Record<string, Verdict>): void {
  const t = jsonNumberTerminal(c);
  const actual = Object.fromEntries(Object.keys(expected).map((text) => [text, verdict(t, text)]));
  expect(actual).toEqual(expected);
}

const number = (bounds: Omit<NumberConstraint, "integer"> = {}): NumberConstraint => ({ integer: false, ...bounds });
const integer = (bounds: Omit<NumberConstraint, "integer"> = {}): NumberConstraint => ({ integer: true, ...bounds });

describe("jsonNumberTerminal: language and caps", () => {
  it("accepts compact number texts and nothing else", () => {
    expectVerdicts(number(), {
      "": "live",
      "-": "live",
      "0": "complete",
      "-0": "complete",
      "12": "complete",
      "-3.25": "complete",
      "0.5": "complete",
      "1.": "live",
      "1.0": "complete",
      "01": "dead",
      "00": "dead",
      "-00": "dead",
      ".5": "dead",
      "-.5": "dead",
      "+1": "dead",
      "--1": "dead",
      "1-": "dead",
      "1e5": "dead",
      "1E5": "dead",
      "1.2.3": "dead",
      " 1": "dead",
      "1 ": "dead",
    });
  });

  it("has no fraction part for integers", () => {
    expectVerdicts(integer(), { "1": "complete", "-7": "complete", "-0": "complete", "1.": "dead", "0.": "dead" });
  });

  it("caps integer digits at MAX_INT_DIGITS and fraction digits at MAX_FRACTION_DIGITS", () => {
    expect(MAX_INT_DIGITS).toBe(16);
    expect(MAX_FRACTION_DIGITS).toBe(16);
    const longest = "9".repeat(MAX_INT_DIGITS);
    expectVerdicts(number(), {
      [longest]: "complete",
      [`-${longest}`]: "complete",
      [`${longest}9`]: "dead",
      [`${longest}.${"9".repeat(MAX_FRACTION_DIGITS)}`]: "complete",
      [`0.${"0".repeat(MAX_FRACTION_DIGITS)}`]: "complete",
      [`0.${"0".repeat(MAX_FRACTION_DIGITS + 1)}`]: "dead",
    });
  });

  it("raises the integer cap to the digits a huge bound needs", () => {
    expect(integerDigitCap(number())).toBe(16);
    expect(integerDigitCap(number({ minimum: 0.5, maximum: 1e15 }))).toBe(16);
    expect(integerDigitCap(number({ maximum: 1e20 }))).toBe(21);
    expect(integerDigitCap(number({ minimum: -1e21 }))).toBe(22);
    expect(integerDigitCap(integer({ exclusiveMaximum: 1.5e300 }))).toBe(301);
    // 1e23 is the double 99999999999999991611392 (23 digits) but is written with 24.
    expect(integerDigitCap(number({ minimum: 1e23 }))).toBe(24);
  });

  it("keeps unbounded states few: one per sign, phase and digit count, not one per digit string", () => {
    const t = jsonNumberTerminal(number());
    const seen = new Set<number>();
    for (let digit = 0; digit <= 9; digit++) {
      const d = String(digit);
      for (const text of [`1${d.repeat(15)}.${d.repeat(16)}`, `-9${d.repeat(15)}.${d.repeat(16)}`, `0.${d.repeat(16)}`, `-0.${d.repeat(16)}`]) {
        for (let end = 0; end <= text.length; end++) seen.add(stateAfter(t, text.slice(0, end)));
      }
    }
    // start, "-", and per sign: "0", 1..16 integer digits, "." plus 0..16 fraction digits.
    const bound = 2 + 2 * (1 + MAX_INT_DIGITS + 1 + MAX_FRACTION_DIGITS);
    expect(seen.has(DEAD)).toBe(false);
    expect(seen.size).toBe(bound);
    expect(Math.max(...seen)).toBe(bound - 1);
  });

  it("returns DEAD for bytes outside 0..255 and from DEAD", () => {
    const t = jsonNumberTerminal(number());
    expect(t.step(t.initial, 256)).toBe(DEAD);
    expect(t.step(t.initial, -1)).toBe(DEAD);
    expect(t.step(DEAD, 0x31)).toBe(DEAD);
    expect(t.isComplete(DEAD)).toBe(false);
  });

  it("labels itself with its type and bounds", () => {
    expect(jsonNumberTerminal(integer({ minimum: 5, maximum: 12 })).label).toBe("integer(minimum=5,maximum=12)");
    expect(jsonNumberTerminal(number()).label).toBe("number()");
  });
});

describe("jsonNumberTerminal: bounds", () => {
  it("integer in [5, 12]: live exactly where a completion exists", () => {
    expectVerdicts(integer({ minimum: 5, maximum: 12 }), {
      "": "live",
      "1": "live",
      "10": "complete",
      "11": "complete",
      "12": "complete",
      "13": "dead",
      "100": "dead",
      "2": "dead",
      "4": "dead",
      "5": "complete",
      "9": "complete",
      "0": "dead",
      "-": "dead",
    });
  });

  it("negative range [-12, -5]", () => {
    expectVerdicts(integer({ minimum: -12, maximum: -5 }), {
      "-": "live",
      "-1": "live",
      "-12": "complete",
      "-13": "dead",
      "-5": "complete",
      "-4": "dead",
      "-0": "dead",
      "0": "dead",
      "5": "dead",
    });
  });

  it("range straddling zero, [-1.5, 2.5]", () => {
    expectVerdicts(number({ minimum: -1.5, maximum: 2.5 }), {
      "0": "complete",
      "-0": "complete",
      "-1.5": "complete",
      "-1.5000000000000000": "complete",
      "-1.50000000000001": "dead",
      "-1.6": "dead",
      "-2": "dead",
      "2.5": "complete",
      "2.6": "dead",
      "3": "dead",
      "10": "dead",
    });
  });

  it("exclusive bounds", () => {
    expectVerdicts(number({ exclusiveMinimum: 0 }), {
      "-": "dead",
      "-0": "dead",
      "0": "live",
      "0.": "live",
      [`0.${"0".repeat(15)}`]: "live",
      [`0.${"0".repeat(16)}`]: "dead",
      [`0.${"0".repeat(15)}1`]: "complete",
      "1": "complete",
    });
    expectVerdicts(integer({ exclusiveMaximum: 10 }), { "9": "complete", "1": "complete", "10": "dead", "-5": "complete" });
    expectVerdicts(number({ exclusiveMinimum: 1, exclusiveMaximum: 2 }), {
      "1": "live",
      "1.": "live",
      "1.0": "live",
      "1.5": "complete",
      "2": "dead",
      "0": "dead",
    });
    expect(jsonNumberTerminal(integer({ exclusiveMinimum: 1, exclusiveMaximum: 2 })).initial).toBe(DEAD);
    // "-0" parses to -0, which is below nothing and equal to 0: live through its fraction.
    expectVerdicts(number({ exclusiveMaximum: 0 }), { "0": "dead", "-0": "live", "-0.1": "complete", "-": "live" });
  });

  it("exclusive bounds hold for the parsed double, not just the written decimal", () => {
    // Below 1e15 as a decimal, but Number() rounds both to 1e15 itself.
    expectVerdicts(number({ exclusiveMaximum: 1e15 }), {
      "999999999999999.9999": "dead",
      "999999999999999.99": "dead",
      "999999999999999.9": "complete",
    });
  });

  it("fractional bounds [0.1, 0.3]", () => {
    expectVerdicts(number({ minimum: 0.1, maximum: 0.3 }), {
      "0": "live",
      "0.": "live",
      "0.09": "dead",
      "0.0999999999999999": "dead",
      "0.1": "complete",
      "0.2": "complete",
      "0.3": "complete",
      "0.30": "complete",
      "0.3000000000000000": "complete",
      "0.3000000000000001": "dead",
      "0.4": "dead",
      "1": "dead",
      "-": "dead",
    });
    expectVerdicts(number({ maximum: 0.1 + 0.2 }), { "0.3": "complete", "0.3000000000000001": "dead" });
    expectVerdicts(number({ minimum: 0.1, maximum: 0.1 }), { "0.1": "complete", "0.10": "complete", "0.2": "dead" });
  });

  it("huge bounds: 1e20 and 1e21, with ties rounding to even", () => {
    const t = jsonNumberTerminal(integer({ maximum: 1e20 }));
    expect(verdict(t, "100000000000000000000")).toBe("complete");
    // 1e20 + 8192 is the midpoint to the next double, and 1e20 has the even significand.
    expect(Number("100000000000000008192")).toBe(1e20);
    expect(verdict(t, "100000000000000008192")).toBe("complete");
    expect(verdict(t, "100000000000000008193")).toBe("dead");
    expect(verdict(t, "1000000000000000000000")).toBe("dead");
    expect(verdict(t, "-99999999999999999999")).toBe("complete");
    expectVerdicts(integer({ minimum: 1e21 }), {
      "-": "dead",
      "9": "live",
      "999999999999999000000": "live", // too small itself, but one more digit is enough
      // 21 digits, below 1e21 as a decimal, but it parses to 1e21 exactly: valid for ajv.
      "999999999999999999999": "complete",
      "1000000000000000000000": "complete",
      "9999999999999999999999": "complete",
      "99999999999999999999999": "dead",
    });
  });

  it("tiny bounds: 1e-7, and ranges with no 16-digit fraction inside", () => {
    expectVerdicts(number({ minimum: 1e-7 }), {
      "0": "live",
      "0.0000001": "complete",
      "0.00000010": "complete",
      "0.00000009": "dead",
      "0.000000099999999": "dead",
      "-": "dead",
    });
    expectVerdicts(number({ minimum: 0, exclusiveMaximum: 1e-20 }), {
      "0": "complete",
      "-0": "complete",
      "-0.0": "complete",
      "0.0000000000000001": "dead",
    });
    expect(jsonNumberTerminal(number({ minimum: 1e-20, maximum: 2e-20 })).initial).toBe(DEAD);
    expect(jsonNumberTerminal(number({ exclusiveMinimum: 0, maximum: 5e-17 })).initial).toBe(DEAD);
    expectVerdicts(number({ minimum: 1e-17, maximum: 1e-16 }), { "0.0000000000000001": "complete", "0": "live", "1": "dead" });
  });

  it("integer with fractional bounds rounds the range inwards", () => {
    expectVerdicts(integer({ minimum: 1.5, maximum: 4.5 }), { "1": "dead", "2": "complete", "4": "complete", "5": "dead" });
    expectVerdicts(integer({ exclusiveMinimum: -2.5, exclusiveMaximum: -0.5 }), { "-2": "complete", "-1": "complete", "-0": "dead", "-3": "dead" });
    expect(jsonNumberTerminal(integer({ minimum: 0.1, maximum: 0.9 })).initial).toBe(DEAD);
  });

  it("-0 as a bound is 0, and \"-0\" as text is 0", () => {
    expectVerdicts(number({ maximum: -0 }), { "0": "complete", "-0": "complete", "-1": "complete", "1": "dead", "0.1": "dead" });
    expectVerdicts(number({ minimum: -0 }), { "0": "complete", "-0": "complete", "-0.": "live", "-0.0": "complete", "-0.1": "dead", "-1": "dead" });
    expectVerdicts(integer({ exclusiveMinimum: -0 }), { "-": "dead", "0": "dead", "1": "complete" });
  });

  it("has no value when the range is empty", () => {
    for (const c of [
      integer({ minimum: 3, maximum: 2 }),
      number({ minimum: 3, maximum: 2 }),
      number({ minimum: 1, exclusiveMaximum: 1 }),
      number({ exclusiveMinimum: Number.MAX_VALUE }),
      number({ exclusiveMaximum: -Number.MAX_VALUE }),
    ]) {
      expect(jsonNumberTerminal(c).initial, JSON.stringify(c)).toBe(DEAD);
    }
    expect(jsonNumberTerminal(number({ minimum: 1, maximum: 1 })).initial).not.toBe(DEAD);
  });

  it("reaches the largest finite values but never Infinity", () => {
    const t = jsonNumberTerminal(integer({ minimum: Number.MAX_VALUE }));
    expect(integerDigitCap(integer({ minimum: Number.MAX_VALUE }))).toBe(309);
    const max = BigInt(Number.MAX_VALUE).toString();
    expect(verdict(t, max)).toBe("complete");
    expect(verdict(t, "1".padEnd(309, "0"))).toBe("dead"); // 1e308 < MAX_VALUE
    expect(verdict(t, "2".padEnd(309, "0"))).toBe("dead"); // parses to Infinity
  });

  it("rejects non-finite bounds with a RangeError", () => {
    expect(() => jsonNumberTerminal(number({ maximum: Infinity }))).toThrow(RangeError);
    expect(() => jsonNumberTerminal(number({ minimum: -Infinity }))).toThrow(RangeError);
    expect(() => jsonNumberTerminal(integer({ exclusiveMinimum: Number.NaN }))).toThrow(RangeError);
  });
});
