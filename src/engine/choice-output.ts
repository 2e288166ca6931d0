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
import { ChoiceText, PLAIN_TEXT, type TextParts, type TextShape } from "./choice-text.ts";

export type ChoiceEvent = Extract<TokenEvent, { type: "delta" | "finish" }>;

export class ChoiceOutput {
  private readonly stopFilter: StopStringFilter;
  private readonly text: ChoiceText;
  private pendingLogprobs: TokenLogprob[] = [];
  generated = 0;
  finishReason: FinishReason | null = null;

  constructor(
    readonly index: number,
    stop: readonly string[],
    shape: TextShape = PLAIN_TEXT,
  ) {
    this.stopFilter = new StopStringFilter(stop);
    this.text = new ChoiceText(shape);
  }

  get finished(): boolean {
    return this.finishReason !== null;
  }

  /** Whether the rendered prompt left the model inside its thinking block; set once the prompt is encoded. */
  promptOpensReasoning(inside: boolean): void {
    this.text.startReasoning(inside);
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
    // Logprobs ride on the delta that carries their token's text, so a token whose text is held back waits.
    const delta = this.delta(this.text.push(check.emit), false);
    return delta ? [delta] : [];
  }

  /** Ends the choice early (cancel, shutdown), releasing held text: it is not a stop string yet. */
  cancel(): ChoiceEvent[] {
    if (this.finished) return [];
    return this.finish("cancelled", this.stopFilter.flush());
  }

  private finish(reason: FinishReason, text: string): ChoiceEvent[] {
    const pushed = this.text.push(text);
    const rest = this.text.finish();
    // A choice that ended by itself after calling tools says so, as OpenAI does.
    this.finishReason = reason === "stop" && this.text.madeCalls ? "tool_calls" : reason;
    const events: ChoiceEvent[] = [];
    const delta = this.delta(
      { content: pushed.content + rest.content, reasoning: pushed.reasoning + rest.reasoning, toolCalls: [...pushed.toolCalls, ...rest.toolCalls] },
      true,
    );
    if (delta) events.push(delta);
    events.push({ type: "finish", index: this.index, finishReason: this.finishReason });
    return events;
  }

  /** One delta for what a token (or, `final`, the end) released; null when it released nothing to send. */
  private delta(parts: TextParts, final: boolean): ChoiceEvent | null {
    const hasLogprobs = this.pendingLogprobs.length > 0;
    const released = parts.content !== "" || parts.reasoning !== "" || parts.toolCalls.length > 0;
    if (!released && !(final && hasLogprobs)) return null;
    const event: ChoiceEvent = { type: "delta", index: this.index, text: parts.content };
    if (parts.reasoning !== "") event.reasoning = parts.reasoning;
    if (parts.toolCalls.length > 0) event.toolCalls = parts.toolCalls;
    if (hasLogprobs) {
      event.logprobs = this.pendingLogprobs;
      this.pendingLogprobs = [];
    }
    return event;
  }
}
