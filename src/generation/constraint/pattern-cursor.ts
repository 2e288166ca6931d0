/**
 * A read position over a pattern's code points, shared by the structural
 * parser (regex-parser.ts) and the class and escape parser
 * (regex-class-escapes.ts). It owns the one thing both need to agree on:
 * mapping a code point index back to the UTF-16 offset an error reports, so
 * errors point where an editor would. Also the digit scanners both use.
 */
import { UnsupportedPatternError } from "./pattern-errors.ts";

export const isDigit = (cp: number): boolean => cp >= 0x30 && cp <= 0x39;
export const hexValue = (cp: number): number =>
  cp >= 0x30 && cp <= 0x39 ? cp - 0x30 : cp >= 0x41 && cp <= 0x46 ? cp - 0x37 : cp >= 0x61 && cp <= 0x66 ? cp - 0x57 : -1;

export class PatternCursor {
  readonly chars: number[];
  /** UTF-16 offset of each code point, so errors point where an editor would. */
  private readonly offsets: number[];
  /** Index into `chars` of the next code point to read; parsers move it directly. */
  pos = 0;

  constructor(private readonly source: string) {
    this.chars = [];
    this.offsets = [];
    let offset = 0;
    for (const ch of source) {
      this.chars.push(ch.codePointAt(0) as number);
      this.offsets.push(offset);
      offset += ch.length;
    }
    this.offsets.push(offset);
  }

  peek(): number {
    return this.chars[this.pos] ?? -1;
  }

  atEnd(): boolean {
    return this.pos >= this.chars.length;
  }

  error(construct: string, pos: number): UnsupportedPatternError {
    return new UnsupportedPatternError(construct, this.offsets[Math.min(pos, this.offsets.length - 1)], this.source);
  }

  /** A run of decimal digits as a number, or null (position unchanged) when none is here. */
  digits(): number | null {
    const from = this.pos;
    while (isDigit(this.peek())) this.pos++;
    if (this.pos === from) return null;
    return Number(String.fromCodePoint(...this.chars.slice(from, this.pos)));
  }

  /** Exactly `count` hex digits as a number, or null (position unchanged) when they are not all here. */
  hexDigits(count: number): number | null {
    let value = 0;
    for (let i = 0; i < count; i++) {
      const digit = hexValue(this.chars[this.pos + i] ?? -1);
      if (digit < 0) return null;
      value = value * 16 + digit;
    }
    this.pos += count;
    return value;
  }
}
