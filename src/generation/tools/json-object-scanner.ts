/**
 * Follows one JSON object a character at a time, so a call's end can be
 * found in text whose format has no close marker, and so the arguments can
 * stream while they arrive. It checks structure only (brackets, strings,
 * where keys, colons, values and commas go); JSON.parse has the last word
 * on a complete object.
 */
import { isJsonWhitespace } from "./marker-match.ts";

/** A top-level member: its key and the span of its value in the scanned text. */
export interface ScannedMember {
  /** The decoded key; null when its escapes do not decode. */
  key: string | null;
  start: number;
  /** Exclusive end; null while the value is still arriving. */
  end: number | null;
}

/** "ok": consumed; "end": consumed, and it closed the object; "error": cannot continue the object, not consumed. */
export type ScanStep = "ok" | "end" | "error";

type Slot = "open" | "firstKey" | "key" | "colon" | "value" | "scalar" | "after" | "done";

export class JsonObjectScanner {
  /** The characters consumed so far. */
  text = "";
  readonly members: ScannedMember[] = [];
  private slot: Slot = "open";
  /** Closers of the containers open inside the current member's value. */
  private nested: string[] = [];
  private inString = false;
  private escaped = false;
  /** Where the string now being read starts, and whether it is a key. */
  private stringStart = 0;
  private stringIsKey = false;
  private pendingKey: string | null = null;

  step(ch: string): ScanStep {
    const at = this.text.length;
    if (this.inString) {
      this.text += ch;
      if (this.escaped) this.escaped = false;
      else if (ch === "\\") this.escaped = true;
      else if (ch === '"') this.endString(at);
      return "ok";
    }
    if (this.nested.length > 0) return this.stepNested(ch, at);
    return this.stepTopLevel(ch, at);
  }

  /** Inside a member's object or array value: only strings and bracket pairs matter. */
  private stepNested(ch: string, at: number): ScanStep {
    if (ch === "}" || ch === "]") {
      if (this.nested[this.nested.length - 1] !== ch) return "error";
      this.nested.pop();
      this.text += ch;
      if (this.nested.length === 0) this.endValue(at + 1);
      return "ok";
    }
    this.text += ch;
    if (ch === '"') this.beginString(at, false);
    else if (ch === "{") this.nested.push("}");
    else if (ch === "[") this.nested.push("]");
    return "ok";
  }

  private stepTopLevel(ch: string, at: number): ScanStep {
    switch (this.slot) {
      case "open":
        if (ch !== "{") return "error";
        this.slot = "firstKey";
        break;
      case "firstKey":
      case "key":
        if (ch === '"') this.beginString(at, true);
        else if (ch === "}" && this.slot === "firstKey") return this.close(ch);
        else if (!isJsonWhitespace(ch)) return "error";
        break;
      case "colon":
        if (ch === ":") this.slot = "value";
        else if (!isJsonWhitespace(ch)) return "error";
        break;
      case "value":
        if (isJsonWhitespace(ch)) break;
        if (ch === "}" || ch === "]" || ch === "," || ch === ":") return "error";
        this.members.push({ key: this.pendingKey, start: at, end: null });
        if (ch === '"') this.beginString(at, false);
        else if (ch === "{") this.nested.push("}");
        else if (ch === "[") this.nested.push("]");
        else this.slot = "scalar";
        break;
      case "scalar":
        // A number or literal ends at the first character that cannot be part of it; JSON.parse checks its spelling.
        if (isJsonWhitespace(ch) || ch === "," || ch === "}") {
          this.endValue(at);
          return this.stepTopLevel(ch, at);
        }
        if (ch === '"' || ch === "{" || ch === "[" || ch === "]" || ch === ":") return "error";
        break;
      case "after":
        if (ch === ",") this.slot = "key";
        else if (ch === "}") return this.close(ch);
        else if (!isJsonWhitespace(ch)) return "error";
        break;
      case "done":
        return "error";
    }
    this.text += ch;
    return "ok";
  }

  private close(ch: string): ScanStep {
    this.text += ch;
    this.slot = "done";
    return "end";
  }

  private beginString(at: number, isKey: boolean): void {
    this.inString = true;
    this.stringStart = at;
    this.stringIsKey = isKey;
  }

  private endString(at: number): void {
    this.inString = false;
    // Strings nested in a value are only skipped over.
    if (this.nested.length > 0) return;
    if (this.stringIsKey) {
      this.pendingKey = decodeJsonString(this.text.slice(this.stringStart, at + 1));
      this.slot = "colon";
    } else {
      this.endValue(at + 1);
    }
  }

  private endValue(end: number): void {
    this.members[this.members.length - 1].end = end;
    this.slot = "after";
  }
}

/** A JSON string literal's value, or null when it does not decode. */
export function decodeJsonString(literal: string): string | null {
  try {
    const value: unknown = JSON.parse(literal);
    return typeof value === "string" ? value : null;
  } catch {
    return null;
  }
}
