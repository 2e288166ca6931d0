/**
 * What steers a row's tokens besides the model: nothing, a constraint for
 * the whole output (response_format, tool_choice required or a named
 * function), or a constraint that starts when the model opens a tool call
 * (tool_choice auto), so a call it chooses to make is still a valid one.
 */
import type { RowConstraint } from "../generation/constraint/row-constraint.ts";
import type { TokenMask } from "../generation/constraint/token-mask.ts";

export interface RowGuide {
  /** The tokens the next draw may take; null: any. */
  mask(): TokenMask | null;
  /** After a drawn token (EOS included): true when the guided output is complete and the row ends. */
  advance(token: number): boolean;
}

/** The whole output is one constrained value. */
export class WholeOutputGuide implements RowGuide {
  constructor(private readonly constraint: RowConstraint) {}

  mask(): TokenMask {
    return this.constraint.mask();
  }

  advance(token: number): boolean {
    this.constraint.advance(token);
    return this.constraint.complete;
  }
}

/** Whether the bytes seen so far end with a marker; fed one byte at a time, across token boundaries. */
class MarkerWatch {
  private recent: number[] = [];

  constructor(private readonly marker: Uint8Array) {}

  /** True when this byte completes the marker. */
  push(byte: number): boolean {
    this.recent.push(byte);
    if (this.recent.length > this.marker.length) this.recent.shift();
    if (this.recent.length < this.marker.length) return false;
    for (let i = 0; i < this.marker.length; i++) if (this.recent[i] !== this.marker[i]) return false;
    return true;
  }

  reset(): void {
    this.recent = [];
  }
}

const isWhitespace = (b: number): boolean => b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09;

/**
 * Where the row's text is, for the trigger: `lead` (only whitespace so far,
 * a thinking block may still open), `thinking` (inside it: a call marker
 * there is thought, not a call) or `free` (watching for a call). The block
 * counts only at the start of the output, as ReasoningStream reads it.
 */
type TriggerState = "lead" | "thinking" | "free";

export interface ReasoningMarkers {
  open: Uint8Array;
  close: Uint8Array;
  /** The prompt already opened the block. */
  inside: boolean;
}

/**
 * Free text until the output ends with the call's opening marker; then the
 * rest of one call is constrained. Bytes are watched across token
 * boundaries, since a marker may be spelled by several tokens. A model that
 * thinks aloud is left free inside its thinking block.
 */
export class ToolCallTriggerGuide implements RowGuide {
  private active: RowConstraint | null = null;
  private readonly call: MarkerWatch;
  private readonly closeThinking: MarkerWatch | null;
  private state: TriggerState;
  /** Non-whitespace bytes at the start, while they may still be the opening thinking tag. */
  private lead: number[] = [];

  constructor(
    open: Uint8Array,
    private readonly startCall: () => RowConstraint,
    private readonly bytesOf: (token: number) => Uint8Array | null,
    private readonly parallel: boolean,
    private readonly reasoning: ReasoningMarkers | null = null,
  ) {
    this.call = new MarkerWatch(open);
    this.closeThinking = reasoning ? new MarkerWatch(reasoning.close) : null;
    this.state = !reasoning ? "free" : reasoning.inside ? "thinking" : "lead";
  }

  mask(): TokenMask | null {
    return this.active?.mask() ?? null;
  }

  advance(token: number): boolean {
    if (this.active) {
      this.active.advance(token);
      if (!this.active.complete) return false;
      this.active = null;
      this.call.reset();
      return !this.parallel;
    }
    const bytes = this.bytesOf(token);
    if (!bytes) return false;
    for (let i = 0; i < bytes.length; i++) {
      if (!this.opensCall(bytes[i])) continue;
      const call = this.startCall();
      // The same token may already hold the call's first bytes; if they cannot start it, the call stays free text.
      if (!call.advanceBytes(bytes.subarray(i + 1))) return false;
      if (call.complete) return !this.parallel;
      this.active = call;
      return false;
    }
    return false;
  }

  /** Feeds one byte of free output; true when it completes a call marker outside any thinking block. */
  private opensCall(byte: number): boolean {
    if (this.state === "thinking") {
      if (this.closeThinking?.push(byte)) this.state = "free";
      return false;
    }
    if (this.state === "lead" && this.reasoning) {
      if (this.lead.length === 0 && isWhitespace(byte)) return this.call.push(byte);
      this.lead.push(byte);
      const tag = this.reasoning.open;
      const prefix = this.lead.length <= tag.length && this.lead.every((b, i) => b === tag[i]);
      if (prefix && this.lead.length === tag.length) {
        this.state = "thinking";
        return false;
      }
      if (prefix) return false;
      // Not a thinking block: the held bytes are free text, and may hold the start of a call marker
      // (only the last can complete one: the others were a prefix of the thinking tag).
      this.state = "free";
      const held = this.lead;
      this.lead = [];
      return held.map((b) => this.call.push(b)).at(-1) === true;
    }
    return this.call.push(byte);
  }
}
