/**
 * The numbers under the conversation (time to first token, tokens/s,
 * tokens), redrawn at most once per animation frame however fast chunks
 * come.
 */

/** @typedef {import("./stream-stats.js").StreamStats} StreamStats */

export class StatsView {
  /** @type {StreamStats | null} */
  #stats = null;
  /** @type {number | null} */
  #frame = null;

  /** @param {{ ttft: HTMLElement, tokensPerSecond: HTMLElement, tokens: HTMLElement }} cells */
  constructor(cells) {
    this.cells = cells;
  }

  /** @param {StreamStats} stats shown at the next animation frame */
  showSoon(stats) {
    this.#stats = stats;
    if (this.#frame === null) this.#frame = requestAnimationFrame(() => this.show(stats));
  }

  /** @param {StreamStats} stats shown now */
  show(stats) {
    if (this.#frame !== null) cancelAnimationFrame(this.#frame);
    this.#frame = null;
    this.#stats = stats;
    const { ttftMs, tokensPerSecond, tokens } = stats;
    this.cells.ttft.textContent = ttftMs === null ? "–" : `${Math.round(ttftMs)} ms`;
    this.cells.tokensPerSecond.textContent = tokensPerSecond === null ? "–" : tokensPerSecond.toFixed(1);
    this.cells.tokens.textContent = String(tokens);
  }

  reset() {
    if (this.#frame !== null) cancelAnimationFrame(this.#frame);
    this.#frame = null;
    this.#stats = null;
    for (const cell of Object.values(this.cells)) cell.textContent = "–";
  }
}
