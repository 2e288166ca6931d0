/**
 * A one-consumer async queue of token events. The producer (scheduler) never
 * waits; the consumer (an HTTP route) pulls. If the consumer stops early —
 * `break` in for-await, a thrown error, a closed socket — `onAbandon` runs,
 * which is how a consumer that is gone cancels its generation.
 */
import type { TokenEvent } from "./engine.ts";

export class EventChannel implements AsyncIterable<TokenEvent> {
  private readonly buffer: TokenEvent[] = [];
  private waiting: ((result: IteratorResult<TokenEvent>) => void) | null = null;
  private closed = false;
  private iterated = false;

  constructor(private readonly onAbandon: () => void) {}

  push(event: TokenEvent): void {
    if (this.closed) return;
    if (event.type === "end" || event.type === "error") this.closed = true;
    if (this.waiting) {
      const resolve = this.waiting;
      this.waiting = null;
      resolve({ value: event, done: false });
    } else {
      this.buffer.push(event);
    }
  }

  [Symbol.asyncIterator](): AsyncIterator<TokenEvent> {
    if (this.iterated) throw new Error("a generation's events can be iterated once");
    this.iterated = true;
    let finished = false;
    return {
      next: () => {
        const event = this.buffer.shift();
        if (event) {
          if (event.type === "end" || event.type === "error") finished = true;
          return Promise.resolve({ value: event, done: false });
        }
        if (finished || (this.closed && this.buffer.length === 0)) return Promise.resolve({ value: undefined, done: true });
        return new Promise((resolve) => {
          this.waiting = (result) => {
            if (!result.done && (result.value.type === "end" || result.value.type === "error")) finished = true;
            resolve(result);
          };
        });
      },
      return: () => {
        if (!finished) this.onAbandon();
        finished = true;
        return Promise.resolve({ value: undefined, done: true });
      },
    };
  }
}
