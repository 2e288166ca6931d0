/**
 * Format patterns against ajv-formats in full mode, the validator clients
 * use. Two directions: everything a format's automaton accepts passes ajv
 * (checked on strings sampled from the automaton and on near-miss strings),
 * and within the documented common form (uppercase T/Z, ±hh:mm offsets, no
 * leap second, no urn prefix) the automaton accepts everything ajv does.
 */
import AjvModule from "ajv";
import addFormatsModule from "ajv-formats";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { DEAD } from "../../../src/generation/constraint/byte-terminal.ts";
import {
  automatonAccepts,
  compilePattern,
  type CodePointAutomaton,
} from "../../../src/generation/constraint/regex-subset.ts";
import {
  formatPattern,
  isSupportedStringFormat,
  SUPPORTED_STRING_FORMATS,
  UnsupportedFormatError,
  type StringFormat,
} from "../../../src/generation/constraint/string-formats.ts";
import { SeededRandom } from "../../../src/generation/rng.ts";

const ajv = new AjvModule.default();
addFormatsModule.default(ajv, { mode: "full" });
const validators = new Map(SUPPORTED_STRING_FORMATS.map((format) => [format, ajv.compile({ type: "string", format })]));
const ajvValid = (format: StringFormat, value: string): boolean => (validators.get(format) as (v: unknown) => boolean)(value);

const automata = new Map<StringFormat, CodePointAutomaton>(
  SUPPORTED_STRING_FORMATS.map((format) => [format, compilePattern(formatPattern(format))]),
);
const accepts = (format: StringFormat, value: string): boolean =>
  automatonAccepts(automata.get(format) as CodePointAutomaton, value);

/** Random strings from an automaton's language: random walks that only take classes from which acceptance stays reachable. */
function sampleLanguage(automaton: CodePointAutomaton, count: number, seed: number): string[] {
  const successors = new Map<number, number[]>();
  const queue = [automaton.start];
  successors.set(automaton.start, []);
  for (let head = 0; head < queue.length; head++) {
    const row: number[] = [];
    for (let k = 0; k < automaton.classCount; k++) {
      const next = automaton.next(queue[head], k);
      row.push(next);
      if (next !== DEAD && !successors.has(next)) {
        successors.set(next, []);
        queue.push(next);
      }
    }
    successors.set(queue[head], row);
  }
  const coAccessible = new Set(queue.filter((s) => automaton.isAccepting(s)));
  for (let changed = true; changed; ) {
    changed = false;
    for (const s of queue) {
      if (!coAccessible.has(s) && (successors.get(s) as number[]).some((t) => coAccessible.has(t))) {
        coAccessible.add(s);
        changed = true;
      }
    }
  }
  const random = new SeededRandom(seed);
  const out: string[] = [];
  while (out.length < count) {
    let state = automaton.start;
    let text = "";
    while (!(automaton.isAccepting(state) && random.next() < 0.15)) {
      const row = successors.get(state) as number[];
      const choices = row.map((t, k) => (coAccessible.has(t) ? k : -1)).filter((k) => k >= 0);
      if (choices.length === 0) break;
      const k = choices[Math.floor(random.next() * choices.length)];
      const lo = automaton.classLow(k);
      const hi = Math.min(automaton.classHigh(k), lo + 1000);
      let cp = lo + Math.floor(random.next() * (hi - lo + 1));
      if (cp >= 0xd800 && cp <= 0xdfff) cp = lo;
      text += String.fromCodePoint(cp);
      state = row[k];
    }
    out.push(text);
  }
  return out;
}

const digits = (n: number, max: number): fc.Arbitrary<string> =>
  fc.integer({ min: 0, max }).map((v) => String(v).padStart(n, "0"));

describe("supported formats", () => {
  it("lists the formats with patterns and refuses others with UnsupportedFormatError", () => {
    expect([...SUPPORTED_STRING_FORMATS].sort()).toEqual(["date", "date-time", "email", "time", "uuid"]);
    expect(isSupportedStringFormat("date")).toBe(true);
    expect(isSupportedStringFormat("uri")).toBe(false);
    expect(isSupportedStringFormat("toString")).toBe(false);
    for (const format of ["uri", "hostname", "ipv4", "", "DATE"]) {
      expect(() => formatPattern(format)).toThrow(UnsupportedFormatError);
    }
    expect(() => formatPattern("uri")).toThrow(/unsupported string format "uri"; supported: .*date-time/);
  });

  it.each(SUPPORTED_STRING_FORMATS)("every sampled %s passes ajv-formats", (format) => {
    const samples = sampleLanguage(automata.get(format) as CodePointAutomaton, 300, 7);
    for (const sample of samples) expect(ajvValid(format, sample), `${format} ${JSON.stringify(sample)}`).toBe(true);
  });
});

describe("date", () => {
  const YEARS = ["0000", "0004", "0100", "1582", "1900", "1996", "2000", "2023", "2024", "2100", "2400", "9999"];

  it("agrees with ajv-formats on every year-month-day combination around the valid ranges", () => {
    for (const year of YEARS) {
      for (let month = 0; month <= 13; month++) {
        for (let day = 0; day <= 32; day++) {
          const value = `${year}-${String(month).padStart(2, "0")}-${String(day).padStart(2, "0")}`;
          expect(accepts("date", value), value).toBe(ajvValid("date", value));
        }
      }
    }
  });

  it("has Feb 29 exactly in leap years, over every year", () => {
    for (let year = 0; year <= 9999; year++) {
      const value = `${String(year).padStart(4, "0")}-02-29`;
      const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
      expect(accepts("date", value), value).toBe(leap);
    }
  });

  it("rejects other shapes", () => {
    for (const value of ["2024-1-01", "24-01-01", "2024-01-011", "2024/01/01", "2024-01-01T00:00:00Z", "", " 2024-01-01"]) {
      expect(accepts("date", value), value).toBe(false);
    }
  });
});

/** Time strings in and around the valid forms, with a flag saying whether they are in the form the pattern promises to cover. */
const timeCandidate = fc
  .record({
    hour: digits(2, 29),
    minute: digits(2, 69),
    second: digits(2, 69),
    fraction: fc.constantFrom("", ".", ".5", ".123456789"),
    zone: fc.oneof(
      fc.constantFrom("Z", "z", ""),
      fc.tuple(fc.constantFrom("+", "-"), digits(2, 29), digits(2, 69), fc.constantFrom(":", "")).map(
        ([sign, h, m, colon]) => `${sign}${h}${colon}${m}`,
      ),
      fc.tuple(fc.constantFrom("+", "-"), digits(2, 29)).map(([sign, h]) => `${sign}${h}`),
    ),
  })
  .map(({ hour, minute, second, fraction, zone }) => ({
    value: `${hour}:${minute}:${second}${fraction}${zone}`,
    commonForm: Number(second) < 60 && /^(?:Z|[+-]\d\d:\d\d)$/.test(zone),
  }));

describe("time", () => {
  it("accepts only what ajv-formats accepts, and all of it in the common form", () => {
    fc.assert(
      fc.property(timeCandidate, ({ value, commonForm }) => {
        const ours = accepts("time", value);
        const theirs = ajvValid("time", value);
        if (ours) expect(theirs, value).toBe(true);
        if (commonForm) expect(ours, value).toBe(theirs);
      }),
      { numRuns: 3000, seed: 11 },
    );
  });

  it("takes the documented common form and leaves the rest out", () => {
    for (const value of ["00:00:00Z", "23:59:59.999+05:30", "12:30:00-00:00", "08:00:00.0Z"]) expect(accepts("time", value), value).toBe(true);
    for (const value of ["24:00:00Z", "12:60:00Z", "12:00:60Z", "12:00:00", "12:00:00z", "12:00:00+0530", "12:00:00+05", "12:00:00.Z", "23:59:60Z"]) {
      expect(accepts("time", value), value).toBe(false);
    }
    // ajv-formats takes these; the pattern deliberately does not generate them.
    for (const value of ["12:00:00z", "12:00:00+0530", "23:59:60Z"]) expect(ajvValid("time", value), value).toBe(true);
  });
});

describe("date-time", () => {
  const dateCandidate = fc.constantFrom("2024-02-29", "2023-02-29", "2023-12-31", "2023-13-01", "1999-04-31", "2000-01-01");

  it("accepts only what ajv-formats accepts, and all of it in the common form", () => {
    fc.assert(
      fc.property(dateCandidate, fc.constantFrom("T", "t", " "), timeCandidate, (date, separator, time) => {
        const value = `${date}${separator}${time.value}`;
        const ours = accepts("date-time", value);
        const theirs = ajvValid("date-time", value);
        if (ours) expect(theirs, value).toBe(true);
        if (separator === "T" && time.commonForm) expect(ours, value).toBe(theirs);
      }),
      { numRuns: 3000, seed: 12 },
    );
  });

  it("takes hand-picked values", () => {
    expect(accepts("date-time", "2024-02-29T23:59:59.5Z")).toBe(true);
    expect(accepts("date-time", "1970-01-01T00:00:00+01:00")).toBe(true);
    expect(accepts("date-time", "2023-02-29T00:00:00Z")).toBe(false);
    expect(accepts("date-time", "2024-01-01 00:00:00Z")).toBe(false);
    expect(accepts("date-time", "2024-01-01T00:00:00")).toBe(false);
  });
});

describe("uuid", () => {
  const hexish = (length: number): fc.Arbitrary<string> =>
    fc.array(fc.constantFrom(..."0123456789abcdefABCDEF"), { minLength: length, maxLength: length }).map((c) => c.join(""));
  const groupLength = (n: number): fc.Arbitrary<number> => fc.constantFrom(n, n, n, n, n - 1, n + 1);
  /** Mostly well-shaped, sometimes one group too long or short, a wrong separator, or a non-hex letter. */
  const candidate = fc
    .tuple(groupLength(8), groupLength(4), groupLength(12), fc.constantFrom("-", "-", "-", "_"), fc.oneof({ arbitrary: fc.constant(null), weight: 3 }, { arbitrary: fc.nat(35), weight: 1 }))
    .chain(([a, b, c, separator, spoiler]) =>
      fc.tuple(hexish(a), hexish(b), hexish(4), hexish(4), hexish(c)).map((groups) => {
        const value = groups.join(separator);
        return spoiler === null || spoiler >= value.length ? value : `${value.slice(0, spoiler)}g${value.slice(spoiler + 1)}`;
      }),
    );

  it("agrees with ajv-formats on bare UUID-shaped strings", () => {
    let acceptedCount = 0;
    fc.assert(
      fc.property(candidate, (value) => {
        const ours = accepts("uuid", value);
        expect(ours, value).toBe(ajvValid("uuid", value));
        if (ours) acceptedCount++;
      }),
      { numRuns: 2000, seed: 13 },
    );
    expect(acceptedCount).toBeGreaterThan(200);
  });

  it("takes either case and leaves out the urn prefix ajv-formats also allows", () => {
    expect(accepts("uuid", "123e4567-e89b-12d3-a456-426614174000")).toBe(true);
    expect(accepts("uuid", "123E4567-E89B-12D3-A456-426614174000")).toBe(true);
    expect(ajvValid("uuid", "urn:uuid:123e4567-e89b-12d3-a456-426614174000")).toBe(true);
    expect(accepts("uuid", "urn:uuid:123e4567-e89b-12d3-a456-426614174000")).toBe(false);
  });
});

describe("email", () => {
  it("accepts common addresses", () => {
    for (const value of ["user@example.com", "first.last+tag@sub.example.co.uk", "a_b%c-d@x-y.io", "X@Y.ZZ", "1@2.ab"]) {
      expect(accepts("email", value), value).toBe(true);
      expect(ajvValid("email", value), value).toBe(true);
    }
  });

  it("rejects malformed ones, and conservatively some ajv-formats allows", () => {
    for (const value of [".a@b.com", "a.@b.com", "a..b@c.com", "a@b", "a@-b.com", "a@b-.com", "a@.com", "a b@c.com", "@b.com", "a@b..com"]) {
      expect(accepts("email", value), value).toBe(false);
      expect(ajvValid("email", value), value).toBe(false);
    }
    for (const value of ["a@b.c", "a@b.123", "a!b@c.com", `a@${"b".repeat(64)}.com`]) {
      expect(ajvValid("email", value), value).toBe(true);
      expect(accepts("email", value), value).toBe(false);
    }
  });

  it("accepts only what ajv-formats accepts on random near-addresses", () => {
    const piece = fc.array(fc.constantFrom(..."ab1-._@+%!Z"), { minLength: 0, maxLength: 8 }).map((c) => c.join(""));
    fc.assert(
      fc.property(piece, piece, piece, (local, domain, tld) => {
        const value = `${local}@${domain}.${tld}`;
        if (accepts("email", value)) expect(ajvValid("email", value), value).toBe(true);
      }),
      { numRuns: 3000, seed: 14 },
    );
  });
});
