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

/**
 * Free text until the output ends with the call's opening marker; then the
 * rest of one call is constrained. Bytes are watched across token
 * boundaries, since a marker may be spelled by several tokens.
 */
export class ToolCallTriggerGuide implements RowGuide {
  private active: RowConstraint | null = null;
  private recent: number[] = [];

  constructor(
    private readonly open: Uint8Array,
    private readonly startCall: () => RowConstraint,
    private readonly bytesOf: (token: number) => Uint8Array | null,
    private readonly parallel: boolean,
  ) {}

  mask(): TokenMask | null {
    return this.active?.mask() ?? null;
  }

  advance(token: number): boolean {
    if (this.active) {
      this.active.advance(token);
      if (!this.active.complete) return false;
      this.active = null;
      this.recent = [];
      return !this.parallel;
    }
    const bytes = this.bytesOf(token);
    if (!bytes) return false;
    for (let i = 0; i < bytes.length; i++) {
      this.recent.push(bytes[i]);
      if (this.recent.length > this.open.length) this.recent.shift();
      if (!this.endsWithOpen()) continue;
      const call = this.startCall();
      // The same token may already hold the call's first bytes; if they cannot start it, the call stays free text.
      if (!call.advanceBytes(bytes.subarray(i + 1))) return false;
      if (call.complete) return !this.parallel;
      this.active = call;
      return false;
    }
    return false;
  }

  private endsWithOpen(): boolean {
    if (this.recent.length < this.open.length) return false;
    for (let i = 0; i < this.open.length; i++) if (this.recent[i] !== this.open[i]) return false;
    return true;
  }
}
