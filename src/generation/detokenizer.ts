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
/**
 * The window slides only once it holds this many tokens: sliding costs a
 * second decode, so sliding at every token would double the decoding work.
 */
const SLIDE_AT = 16;

export class IncrementalDetokenizer {
  /** The decoding window: the tokens decoded together at each push. */
  private ids: number[] = [];
  /** Characters of decode(ids) already emitted. */
  private emitted = 0;
  /**
   * decode(context) while it ends in U+FFFD: bytes the completion may still
   * complete, or invalid bytes (and, when the window starts inside a
   * character, its orphaned bytes) that belong to the prompt's text.
   */
  private pendingContext: string | null = null;

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
    for (let i = start; i < context.length; i++) this.ids.push(context[i]);
    if (this.ids.length > 0) {
      const text = this.decoder.decode(this.ids);
      this.emitted = withoutTrailingReplacement(text).length;
      if (this.emitted < text.length) this.pendingContext = text;
    }
  }

  /** Adds one token; returns the text that became stable (maybe ""). */
  push(id: number): string {
    this.ids.push(id);
    const text = this.decoder.decode(this.ids);
    const stable = withoutTrailingReplacement(text);
    if (this.pendingContext !== null && stable.length > this.emitted) {
      // The context's U+FFFD still standing are the prompt's; the ones that
      // turned into a character start the completion.
      const context = this.pendingContext;
      while (this.emitted < context.length && text.charCodeAt(this.emitted) === 0xfffd) this.emitted++;
      this.pendingContext = null;
    }
    if (stable.length === text.length) this.pendingContext = null;
    const delta = stable.length > this.emitted ? stable.slice(this.emitted) : "";
    this.emitted = Math.max(this.emitted, stable.length);
    if (stable.length === text.length && this.ids.length >= SLIDE_AT) {
      // Clean boundary: slide the window so decoding stays O(1) per token.
      this.ids = this.ids.slice(-CONTEXT_TOKENS);
      this.emitted = this.decoder.decode(this.ids).length;
    }
    return delta;
  }
}

function withoutTrailingReplacement(text: string): string {
  let end = text.length;
  while (end > 0 && text.charCodeAt(end - 1) === 0xfffd) end--;
  return text.slice(0, end);
}
