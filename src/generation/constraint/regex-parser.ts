/**
 * The structural half of the pattern parser: top-level alternatives with
 * their `^`/`$` anchors, groups, alternation, sequences and quantifiers,
 * producing the syntax tree the NFA builder compiles. Character classes and
 * escapes are delegated to regex-class-escapes.ts. Every construct outside
 * the subset throws UnsupportedPatternError naming it and its offset (see
 * regex-subset.ts for the subset itself).
 */
import { DOT, type CodePointSet } from "./code-point-sets.ts";
import { PatternCursor } from "./pattern-cursor.ts";
import { parseCharacterClass, parseEscape } from "./regex-class-escapes.ts";

/** `{n,m}` bounds above this are rejected: they make large automata for no realistic schema. */
export const MAX_QUANTIFIER_BOUND = 1000;

export type RegexNode =
  | { readonly kind: "chars"; readonly set: CodePointSet }
  | { readonly kind: "sequence"; readonly items: readonly RegexNode[] }
  | { readonly kind: "alternation"; readonly options: readonly RegexNode[] }
  | { readonly kind: "repeat"; readonly item: RegexNode; readonly min: number; readonly max: number };

export interface TopLevelAlternative {
  readonly anchoredStart: boolean;
  readonly anchoredEnd: boolean;
  readonly body: RegexNode;
}

/** Parses a whole pattern into its top-level alternatives; throws UnsupportedPatternError. */
export function parsePattern(source: string): TopLevelAlternative[] {
  return new PatternParser(source).parse();
}

class PatternParser {
  private readonly cursor: PatternCursor;

  constructor(source: string) {
    this.cursor = new PatternCursor(source);
  }

  parse(): TopLevelAlternative[] {
    const alternatives: TopLevelAlternative[] = [];
    for (;;) {
      alternatives.push(this.topLevelAlternative());
      if (this.cursor.atEnd()) return alternatives;
      if (this.cursor.peek() === 0x7c /* | */) {
        this.cursor.pos++;
        continue;
      }
      throw this.cursor.error("unmatched ')'", this.cursor.pos);
    }
  }

  private topLevelAlternative(): TopLevelAlternative {
    const cursor = this.cursor;
    let anchoredStart = false;
    if (cursor.peek() === 0x5e /* ^ */) {
      anchoredStart = true;
      cursor.pos++;
    }
    const items: RegexNode[] = [];
    let anchoredEnd = false;
    while (!cursor.atEnd() && cursor.peek() !== 0x7c && cursor.peek() !== 0x29) {
      if (cursor.peek() === 0x24 /* $ */) {
        const after = cursor.chars[cursor.pos + 1];
        if (after === undefined || after === 0x7c) {
          anchoredEnd = true;
          cursor.pos++;
          break;
        }
        throw cursor.error("anchor '$' not at the end of the pattern", cursor.pos);
      }
      items.push(this.quantified());
    }
    return { anchoredStart, anchoredEnd, body: { kind: "sequence", items } };
  }

  private disjunction(): RegexNode {
    const options: RegexNode[] = [this.sequence()];
    while (this.cursor.peek() === 0x7c) {
      this.cursor.pos++;
      options.push(this.sequence());
    }
    return options.length === 1 ? options[0] : { kind: "alternation", options };
  }

  private sequence(): RegexNode {
    const cursor = this.cursor;
    const items: RegexNode[] = [];
    while (!cursor.atEnd() && cursor.peek() !== 0x7c && cursor.peek() !== 0x29) {
      if (cursor.peek() === 0x24) throw cursor.error("anchor '$' not at the end of the pattern", cursor.pos);
      items.push(this.quantified());
    }
    return { kind: "sequence", items };
  }

  private quantified(): RegexNode {
    const cursor = this.cursor;
    const item = this.atom();
    const bounds = this.quantifier();
    if (bounds === null) return item;
    if (cursor.peek() === 0x3f /* lazy ? */) cursor.pos++;
    if (this.quantifierStartsHere()) throw cursor.error("nothing to repeat (quantifier after quantifier)", cursor.pos);
    return { kind: "repeat", item, min: bounds.min, max: bounds.max };
  }

  private quantifierStartsHere(): boolean {
    const cursor = this.cursor;
    const c = cursor.peek();
    if (c === 0x2a || c === 0x2b || c === 0x3f) return true;
    if (c !== 0x7b) return false;
    const save = cursor.pos;
    const bounds = this.braceQuantifier(false);
    cursor.pos = save;
    return bounds !== null;
  }

  private quantifier(): { min: number; max: number } | null {
    const cursor = this.cursor;
    const c = cursor.peek();
    if (c === 0x2a) return cursor.pos++, { min: 0, max: Infinity };
    if (c === 0x2b) return cursor.pos++, { min: 1, max: Infinity };
    if (c === 0x3f) return cursor.pos++, { min: 0, max: 1 };
    if (c === 0x7b) {
      const start = cursor.pos;
      const bounds = this.braceQuantifier(true);
      if (bounds === null) throw cursor.error("lone '{' (not a quantifier)", start);
      return bounds;
    }
    return null;
  }

  /** `{n}`, `{n,}` or `{n,m}` at the current position, or null (position restored) when it is not one. */
  private braceQuantifier(check: boolean): { min: number; max: number } | null {
    const cursor = this.cursor;
    const start = cursor.pos;
    cursor.pos++;
    const min = cursor.digits();
    if (min === null) return (cursor.pos = start), null;
    let max = min;
    if (cursor.peek() === 0x2c /* , */) {
      cursor.pos++;
      max = cursor.digits() ?? Infinity;
    }
    if (cursor.peek() !== 0x7d /* } */) return (cursor.pos = start), null;
    cursor.pos++;
    if (check) {
      if (min > MAX_QUANTIFIER_BOUND || (max !== Infinity && max > MAX_QUANTIFIER_BOUND)) {
        throw cursor.error(`quantifier bound above ${MAX_QUANTIFIER_BOUND}`, start);
      }
      if (max < min) throw cursor.error("quantifier bounds out of order", start);
    }
    return { min, max };
  }

  private atom(): RegexNode {
    const cursor = this.cursor;
    const at = cursor.pos;
    const c = cursor.chars[cursor.pos++];
    switch (c) {
      case 0x28 /* ( */:
        return this.group(at);
      case 0x5b /* [ */:
        return { kind: "chars", set: parseCharacterClass(cursor, at) };
      case 0x2e /* . */:
        return { kind: "chars", set: DOT };
      case 0x5c /* \ */: {
        const escape = parseEscape(cursor, false, at);
        return { kind: "chars", set: "set" in escape ? escape.set : [escape.codePoint, escape.codePoint] };
      }
      case 0x2a:
      case 0x2b:
      case 0x3f:
        throw cursor.error(`nothing to repeat ('${String.fromCodePoint(c)}')`, at);
      case 0x7b: {
        cursor.pos = at;
        if (this.braceQuantifier(false) !== null) throw cursor.error("nothing to repeat ('{')", at);
        throw cursor.error("lone '{' (not a quantifier)", at);
      }
      case 0x5e:
        throw cursor.error("anchor '^' not at the start of the pattern", at);
      case 0x5d:
      case 0x7d:
        // Literal only outside `u` mode; ajv compiles with `u`, where these are syntax errors.
        throw cursor.error(`lone '${String.fromCodePoint(c)}'`, at);
      default:
        return { kind: "chars", set: [c, c] };
    }
  }

  private group(at: number): RegexNode {
    const cursor = this.cursor;
    if (cursor.peek() === 0x3f /* ? */) {
      const next = cursor.chars[cursor.pos + 1];
      const after = cursor.chars[cursor.pos + 2];
      if (next === 0x3a /* : */) {
        cursor.pos += 2;
      } else if (next === 0x3d) {
        throw cursor.error("lookahead '(?='", at);
      } else if (next === 0x21) {
        throw cursor.error("negative lookahead '(?!'", at);
      } else if (next === 0x3c && after === 0x3d) {
        throw cursor.error("lookbehind '(?<='", at);
      } else if (next === 0x3c && after === 0x21) {
        throw cursor.error("negative lookbehind '(?<!'", at);
      } else if (next === 0x3c) {
        throw cursor.error("named group '(?<name>'", at);
      } else {
        throw cursor.error("inline flags / modifier group '(?'", at);
      }
    }
    const inner = this.disjunction();
    if (cursor.peek() !== 0x29) throw cursor.error("unterminated group '('", at);
    cursor.pos++;
    return inner;
  }
}
