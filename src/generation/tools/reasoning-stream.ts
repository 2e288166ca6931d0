/**
 * Splits one choice's text into reasoning (inside the thinking block) and
 * content (after it), as it is generated. Reasoning never reaches content:
 * text that may still be the start of a tag is held back (the stop-string
 * rule) until it is known to be text or a tag.
 *
 * Only a block at the very start of the output (after whitespace) is
 * reasoning, as thinking models write it; once content has begun, a "<think>"
 * is just text — a model explaining tags is not thinking. The whitespace the
 * models put just inside the block and between the block and the answer is
 * dropped.
 */
import { isJsonWhitespace, isMarkerPrefix, partialMarkerLength } from "./marker-match.ts";
import type { ReasoningTags } from "./reasoning-tags.ts";

export type ReasoningEvent = { type: "reasoning"; text: string } | { type: "content"; text: string };

export interface ReasoningStreamOptions {
  /** The prompt already opened the block (see promptOpensReasoning): the output starts as reasoning. */
  startsInside: boolean;
}

/**
 * before: only whitespace so far, a block may still open; reasoningLead /
 * contentLead: whitespace at the start of the reasoning / of the answer,
 * dropped; reasoning: inside the block; content: after it, or output
 * without one.
 */
type State = "before" | "reasoningLead" | "reasoning" | "contentLead" | "content";

export class ReasoningStream {
  private state: State;
  /** Text received but not yet decided on. */
  private pending = "";
  private finished = false;
  private events: ReasoningEvent[] = [];

  constructor(
    private readonly tags: ReasoningTags,
    options: ReasoningStreamOptions,
  ) {
    this.state = options.startsInside ? "reasoningLead" : "before";
  }

  push(text: string): ReasoningEvent[] {
    if (this.finished) return [];
    this.pending += text;
    this.drain(false);
    return this.take();
  }

  /** The output has ended: held text is what it was, reasoning or content. */
  finish(): ReasoningEvent[] {
    if (this.finished) return [];
    this.finished = true;
    this.drain(true);
    return this.take();
  }

  private take(): ReasoningEvent[] {
    const events = this.events;
    this.events = [];
    return events;
  }

  private drain(final: boolean): void {
    while (this.pending.length > 0) {
      switch (this.state) {
        case "before": {
          const lead = leadingWhitespace(this.pending);
          const rest = this.pending.slice(lead);
          if (rest.startsWith(this.tags.open)) {
            this.pending = rest.slice(this.tags.open.length);
            this.state = "reasoningLead";
            break;
          }
          if (!final && (rest.length === 0 || isMarkerPrefix(rest, [this.tags.open]))) return;
          this.state = "content";
          break;
        }
        case "reasoningLead":
        case "contentLead": {
          const lead = leadingWhitespace(this.pending);
          this.pending = this.pending.slice(lead);
          if (this.pending.length === 0) return;
          this.state = this.state === "reasoningLead" ? "reasoning" : "content";
          break;
        }
        case "reasoning": {
          const at = this.pending.indexOf(this.tags.close);
          if (at !== -1) {
            this.emit("reasoning", this.pending.slice(0, at));
            this.pending = this.pending.slice(at + this.tags.close.length);
            this.state = "contentLead";
            break;
          }
          const keep = final ? 0 : partialMarkerLength(this.pending, [this.tags.close]);
          this.emit("reasoning", this.pending.slice(0, this.pending.length - keep));
          this.pending = this.pending.slice(this.pending.length - keep);
          return;
        }
        case "content":
          this.emit("content", this.pending);
          this.pending = "";
          return;
      }
    }
  }

  private emit(type: ReasoningEvent["type"], text: string): void {
    if (text.length === 0) return;
    const last = this.events[this.events.length - 1];
    if (last !== undefined && last.type === type) last.text += text;
    else this.events.push({ type, text });
  }
}

function leadingWhitespace(text: string): number {
  let i = 0;
  while (i < text.length && isJsonWhitespace(text[i])) i++;
  return i;
}
