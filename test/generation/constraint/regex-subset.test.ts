/**
 * The regex subset: hand-picked patterns and strings checked against the
 * expected answer and against ECMAScript's own `new RegExp(p, "u").test(s)`
 * (JSON Schema's search semantics), the constructs outside the subset, and
 * the size limits.
 */
import { describe, expect, it } from "vitest";
import { DEAD } from "../../../src/generation/constraint/byte-terminal.ts";
import {
  anyStringAutomaton,
  automatonAccepts,
  compilePattern,
  intersectAutomata,
  PatternTooComplexError,
  UnsupportedPatternError,
} from "../../../src/generation/constraint/regex-subset.ts";

/** [pattern, string, expected] — the expectation is also what RegExp with the `u` flag says. */
const CASES: readonly [string, string, boolean][] = [
  // Search semantics: unanchored patterns match anywhere.
  ["abc", "xxabcyy", true],
  ["abc", "ab", false],
  ["^abc", "abcd", true],
  ["^abc", "xabc", false],
  ["abc$", "xabc", true],
  ["abc$", "abcx", false],
  ["^abc$", "abc", true],
  ["^abc$", "abcabc", false],
  ["", "", true],
  ["", "anything", true],
  ["^$", "", true],
  ["^$", "a", false],
  // Per-alternative anchors.
  ["^a|b$", "ax", true],
  ["^a|b$", "xb", true],
  ["^a|b$", "xa", false],
  ["^(?:cat|dog)$", "dog", true],
  ["^(cat|dog)$", "cats", false],
  // Classes, escapes, dot.
  ["^[a-c]+$", "abcabc", true],
  ["^[a-c]+$", "abd", false],
  ["^[^a-c]$", "d", true],
  ["^[^a-c]$", "\n", true],
  ["^[^a-c]$", "😀", true],
  ["^[]$", "a", false],
  ["^[^]$", "\n", true],
  ["^[-a]$", "-", true],
  ["^[a-]$", "-", true],
  ["^[\\-]$", "-", true],
  ["^[\\d.]+$", "3.14", true],
  ["^[\\w-]+$", "snake_case-id", true],
  ["^[\\w-]+$", "no space", false],
  ["^\\d{3}-\\d{4}$", "555-1234", true],
  ["^\\d{3}-\\d{4}$", "555-12345", false],
  ["^\\D+$", "abc", true],
  ["^\\D+$", "ab1", false],
  ["^\\W$", "!", true],
  ["^\\W$", "_", false],
  ["^\\s$", "\u00a0", true],
  ["^\\s$", "\u2028", true],
  ["^\\s$", "\ufeff", true],
  ["^\\S$", "x", true],
  ["^\\S$", "\t", false],
  ["^.$", "\n", false],
  ["^.$", "\r", false],
  ["^.$", "\u2028", false],
  ["^.$", "\u2029", false],
  ["^.$", "\u0085", true],
  ["^.$", "😀", true],
  ["^..$", "😀", false],
  ["^\\.$", ".", true],
  ["^\\.$", "x", false],
  ["^\\\\$", "\\", true],
  ["^\\/$", "/", true],
  ["^\\n\\t\\r\\f\\v\\0$", "\n\t\r\f\v\0", true],
  ["^\\u00e9$", "é", true],
  ["^\\x41$", "A", true],
  ["^\\u{1F600}$", "😀", true],
  ["^\\uD83D\\uDE00$", "😀", true],
  ["^[\\uD83D\\uDE00-\\uD83D\\uDE4F]$", "😃", true],
  ["^😀+$", "😀😀", true],
  ["^[😀-😂]$", "😁", true],
  ["^\\cJ$", "\n", true],
  ["^[\\b]$", "\b", true],
  ["^\\(\\)\\[\\]\\{\\}\\|\\*\\+\\?\\^\\$$", "()[]{}|*+?^$", true],
  // Quantifiers, greedy and lazy alike.
  ["^a*$", "", true],
  ["^a+$", "", false],
  ["^a?b$", "b", true],
  ["^a{2}$", "aa", true],
  ["^a{2}$", "aaa", false],
  ["^a{2,}$", "aaaaa", true],
  ["^a{2,}$", "a", false],
  ["^a{2,3}$", "aaa", true],
  ["^a{2,3}$", "aaaa", false],
  ["^a{0}$", "", true],
  ["^a*?$", "aaa", true],
  ["^a+?b??c{1,2}?$", "aacc", true],
  ["^(ab)+$", "ababab", true],
  ["^(ab)+$", "ababa", false],
  ["^(a|bc)*d$", "abcabcd", true],
  ["^(a*)*$", "aaa", true],
  ["^(a?){3}a{3}$", "aaa", true],
  ["^(?:[0-9]{1,3}\\.){3}[0-9]{1,3}$", "192.168.0.1", true],
  ["^(?:[0-9]{1,3}\\.){3}[0-9]{1,3}$", "192.168.0", false],
  // Line terminators are fine outside the match.
  ["^a", "a\nb", true],
  ["a$", "b\na", true],
  ["b", "a\nb\nc", true],
];

describe("compilePattern", () => {
  it.each(CASES)("%j on %j is %s, as RegExp with the u flag says", (pattern, text, expected) => {
    expect(new RegExp(pattern, "u").test(text)).toBe(expected);
    expect(automatonAccepts(compilePattern(pattern), text)).toBe(expected);
  });

  it("partitions code points into a few classes, not a table over all of them", () => {
    const automaton = compilePattern("^[a-z]+@[0-9]+\\.[a-z]{2,}$");
    expect(automaton.classCount).toBeLessThan(20);
    expect(automaton.classOf(0x61)).toBe(automaton.classOf(0x7a));
    expect(automaton.classOf(0x10ffff)).toBe(automaton.classCount - 1);
    expect(automaton.classHigh(automaton.classCount - 1)).toBe(0x10ffff);
    for (let k = 1; k < automaton.classCount; k++) expect(automaton.classLow(k)).toBe(automaton.classHigh(k - 1) + 1);
  });

  it("reaches DEAD once an anchored match cannot continue, and memoizes transitions", () => {
    const automaton = compilePattern("^ab$");
    const a = automaton.next(automaton.start, automaton.classOf(0x61));
    expect(a).not.toBe(DEAD);
    expect(automaton.next(a, automaton.classOf(0x61))).toBe(DEAD);
    const b = automaton.next(a, automaton.classOf(0x62));
    expect(automaton.isAccepting(b)).toBe(true);
    expect(automaton.next(b, automaton.classOf(0x62))).toBe(DEAD);
    expect(automaton.next(a, automaton.classOf(0x62))).toBe(b);
  });

  it("collapses every state that has matched an unanchored-end pattern into one", () => {
    const automaton = compilePattern("ab");
    let state = automaton.start;
    const seen = new Set<number>();
    for (const ch of "xxabxxabab") {
      state = automaton.next(state, automaton.classOf(ch.codePointAt(0) as number));
      if (automaton.isAccepting(state)) seen.add(state);
    }
    expect(seen.size).toBe(1);
  });
});

describe("unsupported constructs", () => {
  const UNSUPPORTED: readonly [string, string, number][] = [
    ["a(?=b)", "lookahead", 1],
    ["a(?!b)", "negative lookahead", 1],
    ["(?<=a)b", "lookbehind", 0],
    ["(?<!a)b", "negative lookbehind", 0],
    ["(?<year>\\d{4})", "named group", 0],
    ["(?i:a)", "inline flags", 0],
    ["(a)\\1", "backreference", 3],
    ["\\k<x>", "named backreference", 0],
    ["\\bword", "word boundary", 0],
    ["a\\B", "word boundary", 1],
    ["\\p{L}", "unicode property escape", 0],
    ["\\P{L}", "unicode property escape", 0],
    ["a^b", "anchor '^'", 1],
    ["(^a)", "anchor '^'", 1],
    ["a$b", "anchor '$'", 1],
    ["(a$)", "anchor '$'", 2],
    ["a{1001}", "quantifier bound above 1000", 1],
    ["a{1,5000}", "quantifier bound above 1000", 1],
    ["a{3,2}", "out of order", 1],
    ["*a", "nothing to repeat", 0],
    ["a**", "nothing to repeat", 2],
    ["a{2}{3}", "nothing to repeat", 4],
    ["a{", "lone '{'", 1],
    ["a{,3}", "lone '{'", 1],
    ["(ab", "unterminated group", 0],
    ["ab)", "unmatched ')'", 2],
    ["[ab", "unterminated character class", 0],
    ["[z-a]", "range out of order", 1],
    ["[\\d-z]", "class escape as a range bound", 1],
    ["\\e", "unknown escape", 0],
    ["\\01", "octal escape", 0],
    ["\\x4", "malformed '\\x' escape", 0],
    ["\\u12", "malformed '\\u' escape", 0],
    ["ab\\", "at end of pattern", 2],
    ["a]", "lone ']'", 1],
    ["a}", "lone '}'", 1],
    ["😀(?=a)", "lookahead", 2],
  ];

  it.each(UNSUPPORTED)("%j throws naming %j at offset %d", (pattern, construct, offset) => {
    let thrown: unknown;
    try {
      compilePattern(pattern);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(UnsupportedPatternError);
    const error = thrown as UnsupportedPatternError;
    expect(error.construct).toContain(construct);
    expect(error.offset).toBe(offset);
    expect(error.message).toContain(construct);
    expect(error.message).toContain(`offset ${offset}`);
  });

  it("accepts \\- outside a class, the one leniency against u mode", () => {
    expect(() => new RegExp("^a\\-b$", "u")).toThrow(SyntaxError);
    expect(automatonAccepts(compilePattern("^a\\-b$"), "a-b")).toBe(true);
  });

  it("accepts the largest allowed quantifier bound", () => {
    expect(automatonAccepts(compilePattern("^a{1000}$"), "a".repeat(1000))).toBe(true);
    expect(automatonAccepts(compilePattern("^a{1000}$"), "a".repeat(999))).toBe(false);
  });

  it("refuses nested repetition that would need too many NFA nodes", () => {
    expect(() => compilePattern("(?:(?:a{1000}){1000})")).toThrow(PatternTooComplexError);
  });

  it("refuses a pattern whose DFA explodes, when the explosion happens", () => {
    // Unanchored, "an a followed by 20 more characters" needs a state per set of recent a positions.
    const automaton = compilePattern("a.{20}b", { maxStates: 500 });
    expect(() => {
      const queue = [automaton.start];
      const seen = new Set(queue);
      for (let head = 0; head < queue.length; head++) {
        for (let k = 0; k < automaton.classCount; k++) {
          const next = automaton.next(queue[head], k);
          if (next !== DEAD && !seen.has(next)) {
            seen.add(next);
            queue.push(next);
          }
        }
      }
    }).toThrow(PatternTooComplexError);
  });
});

describe("intersectAutomata and anyStringAutomaton", () => {
  it("accepts what both accept", () => {
    const both = intersectAutomata(compilePattern("^[a-z]+$"), compilePattern("x"));
    expect(automatonAccepts(both, "abxcd")).toBe(true);
    expect(automatonAccepts(both, "abcd")).toBe(false);
    expect(automatonAccepts(both, "abXcd")).toBe(false);
  });

  it("anyStringAutomaton accepts everything in one state", () => {
    const any = anyStringAutomaton();
    expect(automatonAccepts(any, "")).toBe(true);
    expect(automatonAccepts(any, "\n😀\u0000")).toBe(true);
    expect(any.next(any.start, any.classOf(0x10ffff))).toBe(any.start);
  });
});
