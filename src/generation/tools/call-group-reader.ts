/**
 * Reads the syntax of one call group — the text from an open marker (or a
 * bare "{") to where it ends: one call, or Mistral's array of calls — a
 * character at a time. It only finds where call objects and the group start
 * and end; what the calls mean, and what is sent, is the stream's business,
 * told through GroupListener.
 */
import { JsonObjectScanner } from "./json-object-scanner.ts";
import { isJsonWhitespace } from "./marker-match.ts";
import type { ToolCallSyntax } from "./tool-call-format.ts";

/**
 * lead: after the open marker, before the first object; object: in a call
 * object; afterObject: after one (Hermes: before the close marker; Mistral
 * array: before "," or "]"); nextElement: after an array's ","; close: in
 * the close marker; skip: a broken Hermes call, running to its close marker.
 */
type Phase = "lead" | "object" | "afterObject" | "nextElement" | "close" | "skip";

/** "ok": consumed; "end": consumed, and the group is over; "fail": the group is over before this character, which is not consumed. */
export type GroupStep = "ok" | "end" | "fail";

export interface GroupListener {
  /** A call object begins (its "{" is about to be read). */
  objectBegin(): void;
  /** A character of the current call object was read. */
  objectRead(scanner: JsonObjectScanner): void;
  /** The current call object is complete. */
  objectEnd(scanner: JsonObjectScanner): void;
  /** The group's syntax broke at the character being read (`raw` does not hold it yet). */
  broken(): void;
}

export class CallGroupReader {
  /** The group's text so far, from its open marker. */
  raw: string;
  /** The call object being read; null between objects. */
  scanner: JsonObjectScanner | null = null;
  private phase: Phase = "lead";
  private inArray = false;
  private closeMatched = 0;

  constructor(
    private readonly syntax: ToolCallSyntax,
    marker: string,
    private readonly listener: GroupListener,
  ) {
    this.raw = marker;
  }

  step(ch: string): GroupStep {
    switch (this.phase) {
      case "lead":
        if (isJsonWhitespace(ch)) return this.consume(ch, "ok");
        if (ch === "[" && this.syntax.array) {
          this.inArray = true;
          this.phase = "nextElement";
          return this.consume(ch, "ok");
        }
        return ch === "{" ? this.beginObject(ch) : this.broken(ch);
      case "nextElement":
        if (isJsonWhitespace(ch)) return this.consume(ch, "ok");
        return ch === "{" ? this.beginObject(ch) : this.broken(ch);
      case "object":
        return this.stepObject(ch);
      case "afterObject":
        if (isJsonWhitespace(ch)) return this.consume(ch, "ok");
        if (this.inArray && ch === ",") {
          this.phase = "nextElement";
          return this.consume(ch, "ok");
        }
        if (this.inArray && ch === "]") return this.consume(ch, "end");
        if (this.syntax.closeMarker !== null && ch === this.syntax.closeMarker[0]) {
          this.phase = "close";
          this.closeMatched = 0;
          return this.step(ch);
        }
        return this.broken(ch);
      case "close": {
        const close = this.syntax.closeMarker as string;
        if (ch !== close[this.closeMatched]) return this.broken(ch);
        this.closeMatched++;
        return this.consume(ch, this.closeMatched === close.length ? "end" : "ok");
      }
      case "skip":
        this.raw += ch;
        return this.raw.endsWith(this.syntax.closeMarker as string) ? "end" : "ok";
    }
  }

  private consume(ch: string, step: GroupStep): GroupStep {
    this.raw += ch;
    return step;
  }

  /**
   * A character that breaks the group's syntax. With a close marker the
   * broken call still runs to it (the marker is where the model meant the
   * call to end); without one, the group ends before this character.
   */
  private broken(ch: string): GroupStep {
    this.listener.broken();
    this.scanner = null;
    if (this.syntax.closeMarker === null) return "fail";
    this.phase = "skip";
    return this.step(ch);
  }

  private beginObject(ch: string): GroupStep {
    this.listener.objectBegin();
    this.scanner = new JsonObjectScanner();
    this.phase = "object";
    return this.stepObject(ch);
  }

  private stepObject(ch: string): GroupStep {
    const scanner = this.scanner as JsonObjectScanner;
    const step = scanner.step(ch);
    if (step === "error") return this.broken(ch);
    this.raw += ch;
    this.listener.objectRead(scanner);
    if (step === "ok") return "ok";
    this.listener.objectEnd(scanner);
    // Without a close marker, a lone object (Llama, Mistral's single-object form) is the whole group.
    if (this.inArray || this.syntax.closeMarker !== null) {
      this.phase = "afterObject";
      return "ok";
    }
    return "end";
  }
}
