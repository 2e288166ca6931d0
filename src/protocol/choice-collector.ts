/** Gathers delta/finish events per choice for a non-streamed answer. */
import type { TokenLogprob, ToolCall } from "../domain.ts";
import type { CollectedChoice, DeltaEvent, FinishEvent } from "./response-types.ts";

export class ChoiceCollector {
  private readonly texts: string[][];
  private readonly reasoning: string[][];
  private readonly toolCalls: ToolCall[][];
  private readonly logprobs: TokenLogprob[][] | null;
  private readonly finishReasons: Array<CollectedChoice["finishReason"]>;

  constructor(n: number, withLogprobs: boolean) {
    this.texts = Array.from({ length: n }, () => []);
    this.reasoning = Array.from({ length: n }, () => []);
    this.toolCalls = Array.from({ length: n }, () => []);
    this.logprobs = withLogprobs ? Array.from({ length: n }, () => []) : null;
    this.finishReasons = Array.from({ length: n }, () => null);
  }

  add(event: DeltaEvent | FinishEvent): void {
    if (event.index < 0 || event.index >= this.texts.length) {
      throw new RangeError(`event for choice ${event.index} of ${this.texts.length}`);
    }
    if (event.type === "finish") {
      this.finishReasons[event.index] = event.finishReason;
      return;
    }
    this.texts[event.index].push(event.text);
    if (event.reasoning !== undefined) this.reasoning[event.index].push(event.reasoning);
    for (const piece of event.toolCalls ?? []) {
      const calls = this.toolCalls[event.index];
      // A call's first piece names it; the later ones only add arguments.
      if (piece.id !== undefined && piece.name !== undefined) calls[piece.index] = { id: piece.id, name: piece.name, arguments: piece.arguments };
      else if (calls[piece.index]) calls[piece.index].arguments += piece.arguments;
    }
    if (this.logprobs !== null && event.logprobs !== undefined) {
      for (const lp of event.logprobs) this.logprobs[event.index].push(lp);
    }
  }

  choices(): CollectedChoice[] {
    return this.texts.map((parts, index) => ({
      index,
      text: parts.join(""),
      reasoning: this.reasoning[index].join(""),
      toolCalls: this.toolCalls[index].filter((call) => call !== undefined),
      finishReason: this.finishReasons[index],
      logprobs: this.logprobs === null ? null : this.logprobs[index],
    }));
  }
}
