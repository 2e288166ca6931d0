/** Gathers delta/finish events per choice for a non-streamed answer. */
import type { TokenLogprob } from "../domain.ts";
import type { CollectedChoice, DeltaEvent, FinishEvent } from "./response-types.ts";

export class ChoiceCollector {
  private readonly texts: string[][];
  private readonly logprobs: TokenLogprob[][] | null;
  private readonly finishReasons: Array<CollectedChoice["finishReason"]>;

  constructor(n: number, withLogprobs: boolean) {
    this.texts = Array.from({ length: n }, () => []);
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
    if (this.logprobs !== null && event.logprobs !== undefined) {
      for (const lp of event.logprobs) this.logprobs[event.index].push(lp);
    }
  }

  choices(): CollectedChoice[] {
    return this.texts.map((parts, index) => ({
      index,
      text: parts.join(""),
      finishReason: this.finishReasons[index],
      logprobs: this.logprobs === null ? null : this.logprobs[index],
    }));
  }
}
