/**
 * Incremental, UTF-8-safe detokenization. Tokens are decoded in context (a
 * short window of earlier tokens), so leading spaces come out as a full
 * decode would give them, and only the stable new suffix is emitted: text
 * that ends in U+FFFD is a multi-byte character still waiting for its other
 * bytes and is held back. Bytes that never complete are dropped at the end.
 */
export interface TextDecoderLike {
  decode(ids: number[]): string;
}

/** Tokens of context kept before the point where text was last stable. */
const CONTEXT_TOKENS = 4;

export class IncrementalDetokenizer {
  private readonly ids: number[] = [];
  private windowStart = 0;
  /** Characters of decode(ids[windowStart:]) already emitted. */
  private emitted = 0;

  /**
   * `context` is the end of the prompt: the first generated token is decoded
   * after it, so "he was on" + "▁EG" gives " EG", not the "EG" that a
   * stand-alone decode (which strips a leading space) would give.
   */
  constructor(
    private readonly decoder: TextDecoderLike,
    context: ArrayLike<number> = [],
  ) {
    const start = Math.max(0, context.length - CONTEXT_TOKENS);
    for (let i = start; i < context.length; i++) this.ids.push(context[i]!);
    this.emitted = this.ids.length > 0 ? withoutTrailingReplacement(this.decoder.decode(this.ids)).length : 0;
  }

  /** Adds one token; returns the text that became stable (maybe ""). */
  push(id: number): string {
    this.ids.push(id);
    const text = this.decoder.decode(this.ids.slice(this.windowStart));
    const stable = withoutTrailingReplacement(text);
    const delta = stable.length > this.emitted ? stable.slice(this.emitted) : "";
    this.emitted = Math.max(this.emitted, stable.length);
    if (stable.length === text.length && this.ids.length - this.windowStart > CONTEXT_TOKENS) {
      // Clean boundary: slide the window so decoding stays O(1) per token.
      this.windowStart = this.ids.length - CONTEXT_TOKENS;
      this.emitted = this.decoder.decode(this.ids.slice(this.windowStart)).length;
    }
    return delta;
  }
}

function withoutTrailingReplacement(text: string): string {
  let end = text.length;
  while (end > 0 && text.charCodeAt(end - 1) === 0xfffd) end--;
  return text.slice(0, end);
}
