/**
 * Turns one choice's sampled tokens into client events. Pure: no timers, no
 * I/O, so it is tested on its own.
 *
 * Who decides that a choice ends, each rule in one place:
 * - EOS, the token budget (max_tokens, or what is left of the context) and
 *   the end of a structured value are decided by the worker, which drops the row at once without waiting
 *   for this thread (worker/worker-row.ts); it reports its verdict with the
 *   token, and this class only turns it into a finish reason;
 * - stop strings are decided here, because only this side holds the text
 *   back until it cannot be the start of one;
 * - cancel (the stop endpoint, a client gone, shutdown) comes from the
 *   engine (engine-request.ts).
 */
import type { FinishReason, TokenLogprob } from "../domain.ts";
import { StopStringFilter } from "../generation/stop-strings.ts";
import type { TokenEvent } from "./engine.ts";
import { ROW_END, type RowEnd } from "../worker/messages.ts";

export type ChoiceEvent = Extract<TokenEvent, { type: "delta" | "finish" }>;

export class ChoiceOutput {
  private readonly stopFilter: StopStringFilter;
  private pendingLogprobs: TokenLogprob[] = [];
  generated = 0;
  finishReason: FinishReason | null = null;

  constructor(
    readonly index: number,
    stop: readonly string[],
  ) {
    this.stopFilter = new StopStringFilter(stop);
  }

  get finished(): boolean {
    return this.finishReason !== null;
  }

  /**
   * Accepts one sampled token: its newly stable text, its logprobs when
   * asked, and the worker's verdict on the row. Returns the events to send.
   */
  accept(text: string, logprob: TokenLogprob | null, end: RowEnd): ChoiceEvent[] {
    if (this.finished) return [];
    this.generated++;
    // The EOS token's own text is never sent (it decodes to "" anyway, special tokens skipped).
    if (end === ROW_END.eos) return this.finish("stop", this.stopFilter.flush());
    if (logprob) this.pendingLogprobs.push(logprob);
    const check = this.stopFilter.push(text);
    if (check.stopped) return this.finish("stop", check.emit);
    if (end === ROW_END.complete) return this.finish("stop", check.emit + this.stopFilter.flush());
    if (end === ROW_END.length) return this.finish("length", check.emit + this.stopFilter.flush());
    return check.emit.length > 0 ? [this.delta(check.emit)] : [];
  }

  /** Ends the choice early (cancel, shutdown), releasing held text: it is not a stop string yet. */
  cancel(): ChoiceEvent[] {
    if (this.finished) return [];
    return this.finish("cancelled", this.stopFilter.flush());
  }

  private finish(reason: FinishReason, text: string): ChoiceEvent[] {
    this.finishReason = reason;
    const events: ChoiceEvent[] = [];
    if (text.length > 0 || this.pendingLogprobs.length > 0) events.push(this.delta(text));
    events.push({ type: "finish", index: this.index, finishReason: reason });
    return events;
  }

  private delta(text: string): ChoiceEvent {
    if (this.pendingLogprobs.length === 0) return { type: "delta", index: this.index, text };
    const logprobs = this.pendingLogprobs;
    this.pendingLogprobs = [];
    return { type: "delta", index: this.index, text, logprobs };
  }
}
