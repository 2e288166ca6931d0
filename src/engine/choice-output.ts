/**
 * Turns one choice's sampled tokens into client events: EOS, stop strings
 * (held back until they cannot match), max_tokens and the end of the
 * context. Pure: no timers, no I/O, so it is tested on its own.
 */
import { StopStringFilter } from "../generation/stop-strings.ts";
import type { FinishReason, TokenLogprob } from "../domain.ts";
import type { TokenEvent } from "./engine.ts";

export interface ChoiceLimits {
  eosIds: readonly number[];
  stop: readonly string[];
}

export type ChoiceEvent = Extract<TokenEvent, { type: "delta" | "finish" }>;

export class ChoiceOutput {
  private readonly stopFilter: StopStringFilter;
  private pendingLogprobs: TokenLogprob[] = [];
  generated = 0;
  finishReason: FinishReason | null = null;
  /** Tokens this choice may generate (max_tokens or the rest of the context); known once the prompt is encoded. */
  maxTokens = Number.POSITIVE_INFINITY;

  constructor(
    readonly index: number,
    private readonly limits: ChoiceLimits,
  ) {
    this.stopFilter = new StopStringFilter(limits.stop);
  }

  get finished(): boolean {
    return this.finishReason !== null;
  }

  /** Accepts one sampled token with its newly stable text; returns the events to send. */
  accept(token: number, text: string, logprob: TokenLogprob | null): ChoiceEvent[] {
    if (this.finished) return [];
    this.generated++;
    if (this.limits.eosIds.includes(token)) return this.finish("stop", this.stopFilter.flush());
    if (logprob) this.pendingLogprobs.push(logprob);
    const check = this.stopFilter.push(text);
    if (check.stopped) return this.finish("stop", check.emit);
    if (this.generated >= this.maxTokens) return this.finish("length", check.emit + this.stopFilter.flush());
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
