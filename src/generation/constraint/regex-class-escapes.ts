/**
 * The lexical half of the pattern parser: character classes `[...]` and
 * backslash escapes, both of which denote a set of code points. Split from
 * regex-parser.ts because this is where nearly all of ECMAScript's `u`-mode
 * escape rules (and the rejections of what the subset leaves out: word
 * boundaries, backreferences, property escapes, octal) live, while the
 * parser proper only deals with structure.
 */
import { complementSet, DIGIT, normalizeSet, SPACE, WORD, type CodePointSet } from "./code-point-sets.ts";
import { MAX_CODE_POINT } from "./code-point-automaton.ts";
import { hexValue, isDigit, type PatternCursor } from "./pattern-cursor.ts";

/** Characters that ECMAScript lets (and `u` mode requires) one to escape to mean themselves. */
const SYNTAX_CHARACTERS = new Set(Array.from("^$\\.*+?()[]{}|/-", (c) => c.codePointAt(0) as number));

/** A class atom is either one code point (may start a range) or a class escape like `\d` (may not). */
export type ClassAtom = { readonly codePoint: number } | { readonly set: CodePointSet };

/** After the `[` at `at`: the class up to and including its `]`. */
export function parseCharacterClass(cursor: PatternCursor, at: number): CodePointSet {
  let negated = false;
  if (cursor.peek() === 0x5e) {
    negated = true;
    cursor.pos++;
  }
  const pairs: number[] = [];
  for (;;) {
    if (cursor.atEnd()) throw cursor.error("unterminated character class '['", at);
    if (cursor.peek() === 0x5d /* ] */) {
      cursor.pos++;
      break;
    }
    const atomAt = cursor.pos;
    const first = classAtom(cursor);
    if (cursor.peek() === 0x2d /* - */ && cursor.chars[cursor.pos + 1] !== undefined && cursor.chars[cursor.pos + 1] !== 0x5d) {
      cursor.pos++;
      const last = classAtom(cursor);
      if ("set" in first || "set" in last) throw cursor.error("class escape as a range bound", atomAt);
      if (first.codePoint > last.codePoint) throw cursor.error("character class range out of order", atomAt);
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

function classAtom(cursor: PatternCursor): ClassAtom {
  const at = cursor.pos;
  const c = cursor.chars[cursor.pos++];
  if (c === 0x5c) return parseEscape(cursor, true, at);
  return { codePoint: c };
}

/** After a backslash at `at`; in a class, `\b` is backspace and `\-` is allowed. */
export function parseEscape(cursor: PatternCursor, inClass: boolean, at: number): ClassAtom {
  if (cursor.atEnd()) throw cursor.error("'\\' at end of pattern", at);
  const c = cursor.chars[cursor.pos++];
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
      throw cursor.error("word boundary '\\b'", at);
    case 0x42 /* B */:
      throw cursor.error("word boundary '\\B'", at);
    case 0x30 /* 0 */:
      if (isDigit(cursor.peek())) throw cursor.error("octal escape", at);
      return { codePoint: 0 };
    case 0x6b /* k */:
      throw cursor.error("named backreference '\\k'", at);
    case 0x70 /* p */:
    case 0x50 /* P */:
      throw cursor.error(`unicode property escape '\\${String.fromCodePoint(c)}'`, at);
    case 0x63 /* c */: {
      const letter = cursor.peek();
      if ((letter >= 0x41 && letter <= 0x5a) || (letter >= 0x61 && letter <= 0x7a)) {
        cursor.pos++;
        return { codePoint: letter % 32 };
      }
      throw cursor.error("malformed control escape '\\c'", at);
    }
    case 0x78 /* x */: {
      const value = cursor.hexDigits(2);
      if (value === null) throw cursor.error("malformed '\\x' escape", at);
      return { codePoint: value };
    }
    case 0x75 /* u */:
      return { codePoint: unicodeEscape(cursor, at) };
    default:
      if (isDigit(c)) throw cursor.error(`backreference '\\${String.fromCodePoint(c)}'`, at);
      if (SYNTAX_CHARACTERS.has(c)) return { codePoint: c };
      throw cursor.error(`unknown escape '\\${String.fromCodePoint(c)}'`, at);
  }
}

/** After `\u`: `{hex}` or four hex digits, joining an escaped surrogate pair into one code point as `u` mode does. */
function unicodeEscape(cursor: PatternCursor, at: number): number {
  if (cursor.peek() === 0x7b) {
    cursor.pos++;
    let value = 0;
    let count = 0;
    while (hexValue(cursor.peek()) >= 0) {
      value = value * 16 + hexValue(cursor.chars[cursor.pos++]);
      count++;
      if (value > MAX_CODE_POINT) throw cursor.error("'\\u{...}' escape above U+10FFFF", at);
    }
    if (count === 0 || cursor.peek() !== 0x7d) throw cursor.error("malformed '\\u{...}' escape", at);
    cursor.pos++;
    return value;
  }
  const unit = cursor.hexDigits(4);
  if (unit === null) throw cursor.error("malformed '\\u' escape", at);
  if (unit >= 0xd800 && unit <= 0xdbff && cursor.peek() === 0x5c && cursor.chars[cursor.pos + 1] === 0x75) {
    const save = cursor.pos;
    cursor.pos += 2;
    const low = cursor.hexDigits(4);
    if (low !== null && low >= 0xdc00 && low <= 0xdfff) return 0x10000 + ((unit - 0xd800) << 10) + (low - 0xdc00);
    cursor.pos = save;
  }
  return unit;
}
