/**
 * jsonStringTerminal on hand-picked texts: the JSON string syntax and UTF-8
 * validity, every keyword alone and combined, the liveness contract (DEAD
 * as early as the first byte that rules out every completion), steady
 * states for caching, and the errors callers answer with 400.
 */
import { describe, expect, it } from "vitest";
import { DEAD, type ByteTerminal } from "../../../src/generation/constraint/byte-terminal.ts";
import {
  jsonStringTerminal,
  StringConstraintError,
  STRING_TERMINAL_LIMITS,
  type StringConstraint,
} from "../../../src/generation/constraint/json-string-terminal.ts";
import { PatternTooComplexError, UnsupportedPatternError } from "../../../src/generation/constraint/regex-subset.ts";
import { UnsupportedFormatError } from "../../../src/generation/constraint/string-formats.ts";

const encoder = new TextEncoder();
const bytesOf = (text: string | readonly number[]): readonly number[] =>
  typeof text === "string" ? [...encoder.encode(text)] : text;

/** The state after the bytes, DEAD from the first byte that kills it. */
function run(terminal: ByteTerminal, text: string | readonly number[]): number {
  let state = terminal.initial;
  for (const byte of bytesOf(text)) {
    if (state === DEAD) return DEAD;
    state = terminal.step(state, byte);
  }
  return state;
}

/** Byte index at which the text dies, or -1 when it never does. */
function deathIndex(terminal: ByteTerminal, text: string | readonly number[]): number {
  let state = terminal.initial;
  const bytes = bytesOf(text);
  if (state === DEAD) return 0;
  for (let i = 0; i < bytes.length; i++) {
    state = terminal.step(state, bytes[i]);
    if (state === DEAD) return i;
  }
  return -1;
}

function accepts(c: StringConstraint, text: string | readonly number[]): boolean {
  const terminal = jsonStringTerminal(c);
  const state = run(terminal, text);
  return state !== DEAD && terminal.isComplete(state);
}

function expectAll(c: StringConstraint, accepted: readonly string[], rejected: readonly string[]): void {
  for (const text of accepted) expect(accepts(c, text), `${JSON.stringify(c)} should accept ${text}`).toBe(true);
  for (const text of rejected) expect(accepts(c, text), `${JSON.stringify(c)} should reject ${text}`).toBe(false);
}

/** `"` + the given bytes + `"`. */
const quoted = (...bytes: number[]): number[] => [0x22, ...bytes, 0x22];

describe("JSON string syntax", () => {
  it("accepts strings with raw characters and every escape", () => {
    expectAll(
      {},
      [
        '""',
        '"abc"',
        '"é😀中"',
        '"\\"\\\\\\/\\b\\f\\n\\r\\t"',
        '"\\u00e9\\u00E9\\u0000\\uFFFF\\uffff\\uE000\\uD7FF"',
        '"\u007f"',
        '"\u2028\u2029"',
        "\"'\"",
      ],
      [],
    );
  });

  it("rejects what JSON or the terminal's rules forbid", () => {
    expectAll({}, [], [
      'abc"',
      ' "a"',
      '"a" ',
      '"a""',
      '"a\nb"',
      '"a\tb"',
      '"\u0000"',
      '"\\x41"',
      '"\\U0041"',
      '"\\u12"',
      '"\\u12g4"',
      '"\\uD800"',
      '"\\udfff"',
      '"\\ud83d\\ude00"',
      '"\\"',
      "'a'",
      "",
      '"',
    ]);
  });

  it("is complete only after the closing quote, and nothing may follow", () => {
    const terminal = jsonStringTerminal({});
    expect(terminal.isComplete(terminal.initial)).toBe(false);
    const open = run(terminal, '"abc');
    expect(open).not.toBe(DEAD);
    expect(terminal.isComplete(open)).toBe(false);
    const closed = terminal.step(open, 0x22);
    expect(terminal.isComplete(closed)).toBe(true);
    for (const byte of [0x22, 0x20, 0x61, 0x2c]) expect(terminal.step(closed, byte)).toBe(DEAD);
    expect(terminal.step(DEAD, 0x61)).toBe(DEAD);
    expect(terminal.isComplete(DEAD)).toBe(false);
  });

  it("accepts UTF-8 at the edges of each sequence length", () => {
    for (const cp of [0x7f, 0x80, 0x7ff, 0x800, 0xd7ff, 0xe000, 0xfffd, 0xffff, 0x10000, 0x10ffff]) {
      expect(accepts({}, `"${String.fromCodePoint(cp)}"`), cp.toString(16)).toBe(true);
    }
  });

  it("rejects overlong, surrogate, out-of-range, stray and truncated UTF-8 at the first bad byte", () => {
    const terminal = jsonStringTerminal({});
    const bad: [number[], number][] = [
      [quoted(0xc0, 0x80), 1],
      [quoted(0xc1, 0xbf), 1],
      [quoted(0xe0, 0x80, 0x80), 2],
      [quoted(0xe0, 0x9f, 0xbf), 2],
      [quoted(0xed, 0xa0, 0x80), 2],
      [quoted(0xed, 0xbf, 0xbf), 2],
      [quoted(0xf0, 0x80, 0x80, 0x80), 2],
      [quoted(0xf0, 0x8f, 0xbf, 0xbf), 2],
      [quoted(0xf4, 0x90, 0x80, 0x80), 2],
      [quoted(0xf5, 0x80, 0x80, 0x80), 1],
      [quoted(0xf8), 1],
      [quoted(0xff), 1],
      [quoted(0x80), 1],
      [quoted(0xbf), 1],
      [quoted(0xc3), 2],
      [quoted(0xe2, 0x82), 3],
      [quoted(0xc3, 0x41), 2],
      [quoted(0xf0, 0x9f, 0x98, 0x41), 4],
    ];
    for (const [bytes, index] of bad) expect(deathIndex(terminal, bytes), bytes.map((b) => b.toString(16)).join(" ")).toBe(index);
  });

  it("labels itself with its keywords", () => {
    expect(jsonStringTerminal({}).label).toBe("string()");
    expect(jsonStringTerminal({ maxLength: 8 }).label).toBe("string(maxLength=8)");
    expect(jsonStringTerminal({ minLength: 1, pattern: "^a", format: "date", exclude: ["x"], asciiOnly: true }).label).toBe(
      'string(minLength=1,pattern="^a",format=date,exclude=1,asciiOnly)',
    );
  });
});

describe("steady states", () => {
  it("without keywords, every ordinary character returns to the same state", () => {
    const terminal = jsonStringTerminal({});
    const content = run(terminal, '"');
    for (const text of ["a", "Z", " ", "~", "é", "中", "😀", "\\n", "\\u00e9", "\\/", "\u2028"]) {
      expect(run(terminal, `"${text}`), text).toBe(content);
      let state = content;
      for (const byte of encoder.encode(text.repeat(3))) state = terminal.step(state, byte);
      expect(state, text).toBe(content);
    }
  });

  it("without keywords, a long multilingual text visits only a handful of states", () => {
    const terminal = jsonStringTerminal({});
    const text = JSON.stringify("Grüße, 世界! 😀 naïve \n\t\"quoted\" \\ \u0001 \u00e9 — fin ".repeat(50));
    const seen = new Set<number>();
    let state = terminal.initial;
    for (const byte of encoder.encode(text)) {
      state = terminal.step(state, byte);
      seen.add(state);
    }
    expect(terminal.isComplete(state)).toBe(true);
    expect(seen.size).toBeLessThan(25);
  });

  it("with a pattern but no lengths, the count does not grow the state", () => {
    const terminal = jsonStringTerminal({ pattern: "^[a-z]+$" });
    const one = run(terminal, '"a');
    expect(run(terminal, '"abcdefghijklmnopqrstuvwxyz')).toBe(one);
  });

  it("merges equivalent pattern states (the DFA is minimized)", () => {
    const terminal = jsonStringTerminal({ pattern: "^(?:ab)*$" });
    expect(run(terminal, '"ab')).toBe(run(terminal, '"'));
    expect(run(terminal, '"aba')).toBe(run(terminal, '"a'));
    const counted = jsonStringTerminal({ pattern: "^[0-9]{1,3}(?:,[0-9]{3})*$" });
    expect(run(counted, '"1,000')).toBe(run(counted, '"1,000,000'));
  });

  it("with only minLength, counts past it share a state", () => {
    const terminal = jsonStringTerminal({ minLength: 2 });
    expect(run(terminal, '"ab')).toBe(run(terminal, '"abcdefgh'));
    expect(run(terminal, '"a')).not.toBe(run(terminal, '"ab'));
  });
});

describe("minLength and maxLength", () => {
  it("count decoded code points: an escape or an astral character is one", () => {
    expectAll({ maxLength: 3 }, ['""', '"abc"', '"\\u00e9\\n😀"', '"😀😀😀"'], ['"abcd"', '"ab\\n\\t"', '"😀😀😀😀"']);
    expectAll({ minLength: 2 }, ['"ab"', '"\\u0041b"', '"😀😀"', '"abcdef"'], ['""', '"a"', '"😀"', '"\\n"']);
    expectAll({ minLength: 1, maxLength: 1 }, ['"a"', '"😀"', '"\\""'], ['""', '"ab"']);
    expectAll({ maxLength: 0 }, ['""'], ['"a"']);
  });

  it("kills the byte that would exceed maxLength, and the quote that would fall short of minLength", () => {
    expect(deathIndex(jsonStringTerminal({ maxLength: 3 }), '"abcd"')).toBe(4);
    expect(deathIndex(jsonStringTerminal({ maxLength: 1 }), '"a\\n"')).toBe(2);
    expect(deathIndex(jsonStringTerminal({ minLength: 2 }), '"a"')).toBe(2);
  });

  it("has no value when minLength exceeds maxLength", () => {
    expect(jsonStringTerminal({ minLength: 3, maxLength: 2 }).initial).toBe(DEAD);
  });
});

describe("pattern", () => {
  it("runs on decoded code points", () => {
    expectAll({ pattern: "^[a-z]+$" }, ['"abc"', '"\\u0061bc"'], ['""', '"ab1"', '"aBc"']);
    expectAll({ pattern: "^a\\nb$" }, ['"a\\nb"', '"a\\u000ab"', '"a\\u000Ab"'], ['"a\\\\nb"']);
    expectAll({ pattern: '^"$' }, ['"\\""', '"\\u0022"'], ['"\\\\"']);
    expectAll({ pattern: "^[\\u0000-\\u001f]$" }, ['"\\u0001"', '"\\n"', '"\\t"'], ['" "']);
    expectAll({ pattern: "\\d" }, ['"a1"', '"1"'], ['"abc"']);
  });

  it("dies at the first byte that no match can follow", () => {
    expect(deathIndex(jsonStringTerminal({ pattern: "^[a-z]+$" }), '"ab1"')).toBe(3);
    expect(deathIndex(jsonStringTerminal({ pattern: "^[a-z]+$" }), '""')).toBe(1);
    // Unanchored "x" within three characters: after two other characters, only x fits.
    expect(deathIndex(jsonStringTerminal({ pattern: "x", maxLength: 3 }), '"aab"')).toBe(3);
    expect(accepts({ pattern: "x", maxLength: 3 }, '"aax"')).toBe(true);
  });

  it("combines exactly with lengths", () => {
    expectAll({ pattern: "^(ab)*$", minLength: 3 }, ['"abab"', '"ababab"'], ['"ab"', '""']);
    expect(deathIndex(jsonStringTerminal({ pattern: "^(ab)*$", minLength: 3 }), '"ab"')).toBe(3);
    expect(jsonStringTerminal({ pattern: "^(ab)*$", minLength: 3, maxLength: 3 }).initial).toBe(DEAD);
    expect(jsonStringTerminal({ pattern: "^[a-z]{5}$", maxLength: 4 }).initial).toBe(DEAD);
    expectAll({ pattern: "^a+$", maxLength: 2 }, ['"a"', '"aa"'], ['"aaa"']);
    expectAll({ pattern: "^(?:a{3})*$", minLength: 4, maxLength: 7 }, ['"aaaaaa"'], ['"aaa"', '"aaaa"', '"aaaaaaaaa"']);
  });

  it("has no value when the pattern matches nothing writable", () => {
    expect(jsonStringTerminal({ pattern: "^[]$" }).initial).toBe(DEAD);
    expect(jsonStringTerminal({ pattern: "^\\uD800$" }).initial).toBe(DEAD);
  });
});

describe("format", () => {
  it("constrains to the format's language", () => {
    expectAll({ format: "date" }, ['"2024-02-29"', '"2023-12-31"'], ['"2023-02-29"', '"2023-13-01"', '"2023-1-01"']);
    expectAll({ format: "date-time" }, ['"2024-02-29T23:59:59.123Z"', '"2024-02-29T00:00:00-08:00"'], ['"2024-02-29 00:00:00Z"']);
    expectAll({ format: "time" }, ['"12:34:56Z"'], ['"12:34:56"']);
    expectAll({ format: "uuid" }, ['"123e4567-e89b-12d3-a456-426614174000"'], ['"123e4567e89b12d3a456426614174000"']);
    expectAll({ format: "email" }, ['"a.b@example.com"'], ['"a@b"', '"a@@b.com"']);
  });

  it("dies at the first impossible digit", () => {
    expect(deathIndex(jsonStringTerminal({ format: "date" }), '"2023-02-29"')).toBe(10);
    expect(deathIndex(jsonStringTerminal({ format: "date" }), '"2023-04-31"')).toBe(10);
    expect(deathIndex(jsonStringTerminal({ format: "date" }), '"2023-2')).toBe(6);
  });

  it("combines with pattern and lengths", () => {
    expectAll({ format: "date", pattern: "^2024" }, ['"2024-01-01"'], ['"2023-01-01"']);
    expect(jsonStringTerminal({ format: "email", maxLength: 5 }).initial).toBe(DEAD);
    expectAll({ format: "email", maxLength: 6 }, ['"a@b.cd"'], ['"a@b.cde"']);
  });
});

describe("exclude", () => {
  it("rejects excluded values however they are escaped", () => {
    expectAll(
      { exclude: ["a", "ab", "é"] },
      ['""', '"b"', '"abc"', '"éa"', '"\\u00e9\\u00e9"'],
      ['"a"', '"ab"', '"\\u0061"', '"\\u0061b"', '"a\\u0062"', '"é"', '"\\u00e9"', '"\\u00E9"'],
    );
    expectAll({ exclude: [""] }, ['"x"'], ['""']);
  });

  it("combines exactly with pattern and lengths", () => {
    expect(jsonStringTerminal({ pattern: "^(a|b)$", exclude: ["a", "b"] }).initial).toBe(DEAD);
    const onlyB = jsonStringTerminal({ pattern: "^(a|b)$", exclude: ["a"] });
    expect(deathIndex(onlyB, '"a"')).toBe(1);
    expect(accepts({ pattern: "^(a|b)$", exclude: ["a"] }, '"b"')).toBe(true);
    // Mid-escape: \u006 may still become b (0x62), \u0061 is a.
    expect(run(onlyB, '"\\u006')).not.toBe(DEAD);
    expect(deathIndex(onlyB, '"\\u0061"')).toBe(6);
    expect(accepts({ pattern: "^(a|b)$", exclude: ["a"] }, '"\\u0062"')).toBe(true);
    expect(jsonStringTerminal({ maxLength: 0, exclude: [""] }).initial).toBe(DEAD);
    expectAll({ maxLength: 1, exclude: ["a", "b"] }, ['"c"', '""'], ['"a"', '"b"', '"ab"']);
  });

  it("ignores excluded strings that no decoded value can equal", () => {
    expectAll({ exclude: ["\ud800"] }, ['"x"', '""'], []);
  });
});

describe("asciiOnly", () => {
  it("writes non-ASCII characters only as escapes, so nothing above U+FFFF", () => {
    expectAll({ asciiOnly: true }, ['"abc"', '"\\u00e9"', '"\\uffff"'], ['"é"', '"😀"']);
    expect(deathIndex(jsonStringTerminal({ asciiOnly: true }), '"é"')).toBe(1);
    expectAll({ asciiOnly: true, pattern: "^é$" }, ['"\\u00e9"', '"\\u00E9"'], ['"é"']);
    expect(jsonStringTerminal({ asciiOnly: true, pattern: "^😀$" }).initial).toBe(DEAD);
    expect(jsonStringTerminal({ asciiOnly: true, pattern: "^.*😀" }).initial).toBe(DEAD);
    expect(jsonStringTerminal({ pattern: "^😀$" }).initial).not.toBe(DEAD);
  });
});

describe("errors for the caller to answer 400", () => {
  function thrown(c: StringConstraint): StringConstraintError {
    try {
      jsonStringTerminal(c);
    } catch (error) {
      expect(error).toBeInstanceOf(StringConstraintError);
      return error as StringConstraintError;
    }
    throw new Error(`no error for ${JSON.stringify(c)}`);
  }

  it("reports unsupported patterns with the construct, and unknown formats", () => {
    const lookahead = thrown({ pattern: "^(?=a)" });
    expect(lookahead.message).toContain("lookahead");
    expect(lookahead.message).toContain("offset 1");
    expect(lookahead.cause).toBeInstanceOf(UnsupportedPatternError);
    expect(lookahead.keyword).toBe("pattern");
    const format = thrown({ format: "uri" });
    expect(format.keyword).toBe("format");
    expect(format.message).toContain('unsupported string format "uri"');
    expect(format.cause).toBeInstanceOf(UnsupportedFormatError);
  });

  it("refuses invalid lengths", () => {
    for (const c of [{ minLength: -1 }, { maxLength: 1.5 }, { maxLength: Number.NaN }, { minLength: Infinity }]) {
      const error = thrown(c);
      expect(error.message).toMatch(/must be a non-negative integer/);
      expect(error.keyword).toBe(c.minLength !== undefined ? "minLength" : "maxLength");
    }
  });

  it("refuses lengths above the limit with a pattern or format, not without", () => {
    const limit = STRING_TERMINAL_LIMITS.maxLengthWithPattern;
    expect(thrown({ pattern: "a", maxLength: limit + 1 }).message).toContain(String(limit));
    expect(thrown({ pattern: "a", maxLength: limit + 1 }).keyword).toBe("maxLength");
    expect(thrown({ format: "date", minLength: limit + 1 }).keyword).toBe("minLength");
    expect(jsonStringTerminal({ pattern: "^a*$", minLength: limit, maxLength: limit }).initial).not.toBe(DEAD);
    expect(jsonStringTerminal({ maxLength: 1_000_000, minLength: 100_000 }).initial).not.toBe(DEAD);
  });

  it("refuses patterns whose automaton explodes", () => {
    const error = thrown({ pattern: "a.{20}b" });
    expect(error.message).toContain(`more than ${STRING_TERMINAL_LIMITS.maxAutomatonStates} automaton states`);
    expect(error.cause).toBeInstanceOf(PatternTooComplexError);
    expect(error.keyword).toBe("pattern");
  });

  it("refuses oversized exclusions", () => {
    const long = "k".repeat(STRING_TERMINAL_LIMITS.maxExcludedStringLength + 1);
    expect(thrown({ exclude: [long] }).message).toContain("excluded string");
    expect(thrown({ exclude: [long] }).keyword).toBe("exclude");
    const many = Array.from({ length: 200 }, (_, i) => `${i}`.padEnd(600, "x"));
    expect(thrown({ exclude: many }).message).toContain("excluded strings total");
  });
});
