/**
 * Stop strings over streamed text. Text that could still grow into a stop
 * string is held back; when a stop string completes, only the text before it
 * is released and the string itself never is.
 */
export interface StopCheck {
  /** Text safe to send now. */
  emit: string;
  /** True once a stop string matched: nothing more should be sent. */
  stopped: boolean;
}

export class StopStringFilter {
  private held = "";
  private done = false;

  constructor(private readonly stops: readonly string[]) {}

  push(text: string): StopCheck {
    if (this.done) return { emit: "", stopped: true };
    if (this.stops.length === 0) return { emit: text, stopped: false };
    const buffer = this.held + text;
    // The stop string that completes first wins (at the same end, the longer
    // one), as if the text arrived one character at a time: the cut must not
    // depend on how the text was split into tokens.
    let cut = -1;
    let end = -1;
    for (const stop of this.stops) {
      const at = buffer.indexOf(stop);
      if (at === -1) continue;
      const stopEnd = at + stop.length;
      if (cut === -1 || stopEnd < end || (stopEnd === end && at < cut)) {
        cut = at;
        end = stopEnd;
      }
    }
    if (cut !== -1) {
      this.done = true;
      this.held = "";
      return { emit: buffer.slice(0, cut), stopped: true };
    }
    const keep = this.longestPartialMatch(buffer);
    this.held = buffer.slice(buffer.length - keep);
    return { emit: buffer.slice(0, buffer.length - keep), stopped: false };
  }

  /** Held text, released when generation ends for another reason. */
  flush(): string {
    const rest = this.done ? "" : this.held;
    this.held = "";
    return rest;
  }

  /** Length of the longest suffix of `buffer` that is a proper prefix of a stop string. */
  private longestPartialMatch(buffer: string): number {
    let best = 0;
    for (const stop of this.stops) {
      for (let len = Math.min(stop.length - 1, buffer.length); len > best; len--) {
        if (buffer.endsWith(stop.slice(0, len))) {
          best = len;
          break;
        }
      }
    }
    return best;
  }
}
