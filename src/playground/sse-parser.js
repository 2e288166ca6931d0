/**
 * Server-sent events out of a byte stream, as fetch's ReadableStream hands
 * it over: a chunk may end anywhere, inside a line, between the "\r" and
 * "\n" of a line break, or inside a UTF-8 character. TextDecoder with
 * `stream: true` holds back the bytes of an unfinished character until the
 * rest arrives, so a Chinese character or an emoji split across two chunks
 * never turns into U+FFFD; lines are only read once they are complete.
 *
 * It follows the WHATWG event-stream rules that matter for this server:
 * `data:` lines (several are joined with "\n"), `:` comments, and an event
 * dispatched at each blank line. `event`, `id` and `retry` are ignored: the
 * server sends none of them. No DOM use, so the tests run it under Node.
 */
export class SseParser {
  #decoder = new TextDecoder("utf-8");
  #buffer = "";
  /** @type {string[]} the data lines of the event being read */
  #data = [];

  /**
   * @param {Uint8Array} bytes the next chunk of the response body
   * @returns {string[]} the data of each event these bytes complete, in order
   */
  push(bytes) {
    this.#buffer += this.#decoder.decode(bytes, { stream: true });
    /** @type {string[]} */
    const events = [];
    const lineEnd = /\r\n|\r|\n/g;
    let start = 0;
    for (let match = lineEnd.exec(this.#buffer); match !== null; match = lineEnd.exec(this.#buffer)) {
      // A "\r" that ends the buffer may be the first half of "\r\n": decide once the next chunk is here.
      if (match[0] === "\r" && match.index === this.#buffer.length - 1) break;
      this.#readLine(this.#buffer.slice(start, match.index), events);
      start = match.index + match[0].length;
    }
    this.#buffer = this.#buffer.slice(start);
    return events;
  }

  /**
   * @param {string} line one complete line, without its line break
   * @param {string[]} events where a completed event's data goes
   */
  #readLine(line, events) {
    if (line === "") {
      if (this.#data.length > 0) events.push(this.#data.join("\n"));
      this.#data = [];
      return;
    }
    if (line.startsWith(":")) return;
    const colon = line.indexOf(":");
    const field = colon === -1 ? line : line.slice(0, colon);
    const value = colon === -1 ? "" : line.slice(colon + 1);
    if (field === "data") this.#data.push(value.startsWith(" ") ? value.slice(1) : value);
  }
}
