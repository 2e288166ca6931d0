/**
 * The regex subset against ECMAScript itself: for random patterns built from
 * every supported construct and random strings over a small alphabet (so
 * matches actually happen), compilePattern accepts exactly what
 * `new RegExp(pattern, "u").test(string)` accepts: JSON Schema's search
 * semantics as ajv implements them.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { automatonAccepts, compilePattern } from "../../../src/generation/constraint/regex-subset.ts";

/** Characters of the test strings: ASCII, a line terminator, a two-byte and an astral character. */
const ALPHABET = ["a", "b", "c", "1", "7", "-", ".", " ", "\n", "\u2028", "é", "😀", "😂"];

/** `\-` outside a class is accepted by compilePattern but is a syntax error for RegExp with `u`, so it only appears inside a class here. */
const ATOMS = [
  "a", "b", "c", "1", "é", "😀",
  "\\u00e9", "\\u{1F600}", "\\uD83D\\uDE00", "\\x61", "[\\-]", "\\.", "\\n", "\\u2028",
  ".", "\\d", "\\D", "\\w", "\\W", "\\s", "\\S",
  "[ab]", "[^a]", "[a-c1]", "[^\\d\\n]", "[😀-😂]", "[\\s\\d]", "[.-]", "[^]", "[]", "[\\W]", "[é\\u2028]",
];

const QUANTIFIERS = ["*", "+", "?", "{2}", "{0,1}", "{1,}", "{1,3}", "{0}", "*?", "+?", "??", "{1,2}?"];

const { node } = fc.letrec<{ node: string }>((tie) => ({
  node: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    fc.constantFrom(...ATOMS),
    fc.tuple(tie("node"), fc.constantFrom(...QUANTIFIERS)).map(([item, q]) => `(?:${item})${q}`),
    fc.tuple(fc.constantFrom(...ATOMS), fc.constantFrom(...QUANTIFIERS)).map(([item, q]) => item + q),
    fc.array(tie("node"), { minLength: 2, maxLength: 3 }).map((items) => items.join("")),
    fc.array(tie("node"), { minLength: 2, maxLength: 3 }).map((items) => `(${items.join("|")})`),
  ),
}));

/** Top-level alternatives, each optionally anchored at either end. */
const pattern = fc
  .array(fc.tuple(fc.boolean(), node, fc.boolean()), { minLength: 1, maxLength: 2 })
  .map((alternatives) => alternatives.map(([start, body, end]) => `${start ? "^" : ""}${body}${end ? "$" : ""}`).join("|"));

const text = fc.array(fc.constantFrom(...ALPHABET), { maxLength: 8 }).map((chars) => chars.join(""));

describe("compilePattern against RegExp with the u flag", () => {
  it("accepts exactly the strings RegExp finds a match in", () => {
    fc.assert(
      fc.property(pattern, fc.array(text, { minLength: 1, maxLength: 12 }), (source, texts) => {
        const reference = new RegExp(source, "u");
        const automaton = compilePattern(source);
        for (const t of texts) expect(automatonAccepts(automaton, t), `${source} on ${JSON.stringify(t)}`).toBe(reference.test(t));
      }),
      { numRuns: 400, seed: 20240611 },
    );
  });
});
