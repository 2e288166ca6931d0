/**
 * Time to first token and decode speed of one streamed answer.
 *
 * Until the usage chunk arrives, the token count is the number of content
 * chunks. The server sends a chunk per generated token, except that a token
 * ending inside a UTF-8 character (or inside what may be a stop string)
 * waits and rides on a later chunk, so the live count can trail the real
 * one a little. The usage chunk's exact `completion_tokens` then replaces it.
 */
export class StreamStats {
  /** @type {number | null} */ #firstAt = null;
  /** @type {number | null} */ #lastAt = null;
  #tokens = 0;
  #exact = false;
  /** @type {() => number} */ #now;
  /** @type {number} */ #sentAt;

  /**
   * Starts the clock: construct it just before sending the request.
   * @param {() => number} now milliseconds on a monotonic clock
   */
  constructor(now = () => performance.now()) {
    this.#now = now;
    this.#sentAt = now();
  }

  /** One content chunk arrived. */
  content() {
    const at = this.#now();
    if (this.#firstAt === null) this.#firstAt = at;
    this.#lastAt = at;
    if (!this.#exact) this.#tokens += 1;
  }

  /** @param {number} completionTokens the usage chunk's exact count */
  usage(completionTokens) {
    this.#tokens = completionTokens;
    this.#exact = true;
  }

  /** @returns {number} tokens so far (exact once usage arrived) */
  get tokens() {
    return this.#tokens;
  }

  /** @returns {number | null} milliseconds from sending to the first content; null before it */
  get ttftMs() {
    return this.#firstAt === null ? null : this.#firstAt - this.#sentAt;
  }

  /**
   * Tokens after the first over the time since the first: the decode rate,
   * which time to first token (queueing, prompt processing) does not dilute.
   * @returns {number | null} null until two tokens spread over some time
   */
  get tokensPerSecond() {
    if (this.#firstAt === null || this.#lastAt === null || this.#tokens < 2 || this.#lastAt <= this.#firstAt) return null;
    return (this.#tokens - 1) / ((this.#lastAt - this.#firstAt) / 1000);
  }
}
