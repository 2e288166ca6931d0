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
 *
 * This file validates the keywords and assembles the pieces:
 * string-constraint.ts (keywords, error, limits), string-keyword-dfa.ts and
 * writable-dfa.ts with dfa-equivalence-blocks.ts (the pattern/format DFA),
 * string-completion-lengths.ts, exclusion-trie.ts, scalar-intervals.ts,
 * string-value-language.ts (the decoded value) and
 * json-string-byte-terminal.ts (the bytes).
 */
import type { ByteTerminal } from "./byte-terminal.ts";
import { ExclusionTrie } from "./exclusion-trie.ts";
import { JsonStringTerminal } from "./json-string-byte-terminal.ts";
import { ALL_SCALARS, BMP_SCALARS } from "./scalar-intervals.ts";
import { STRING_TERMINAL_LIMITS, StringConstraintError, type StringConstraint } from "./string-constraint.ts";
import { writableDfaFor } from "./string-keyword-dfa.ts";
import { ValueLanguage } from "./string-value-language.ts";

export {
  STRING_TERMINAL_LIMITS,
  StringConstraintError,
  type StringConstraint,
  type StringConstraintKeyword,
} from "./string-constraint.ts";

function lengthKeyword(name: "minLength" | "maxLength", value: number | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new StringConstraintError(name, `${name} must be a non-negative integer, got ${String(value)}`);
  }
  return value;
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
  // Only lengths (no pattern, format or exclusions): states then differ by their count alone, which maskClass can fold.
  const countsOnly = c.pattern === undefined && c.format === undefined && exclusions === null;
  return new JsonStringTerminal(value, asciiOnly, labelOf(c), countsOnly);
}
