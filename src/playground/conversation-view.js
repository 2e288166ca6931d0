/**
 * The conversation on screen. Text always goes in as text nodes, never as
 * HTML, so nothing a model or a user writes can become markup.
 *
 * Streamed text is buffered and written once per animation frame: a small
 * model sends hundreds of chunks a second, more than a screen shows, and
 * one DOM write per frame keeps the page responsive while it streams.
 */
export class ConversationView {
  /** @param {HTMLElement} container the scrollable element that holds the messages */
  constructor(container) {
    this.container = container;
  }

  /** @param {string} text what the user sent */
  addUser(text) {
    const { content } = this.#addMessage("user", "You");
    content.textContent = text;
  }

  /** @returns {StreamingReply} the assistant's reply, empty until text streams in */
  startAssistant() {
    const { article, content, meta } = this.#addMessage("assistant", "Assistant");
    const text = document.createTextNode("");
    content.append(text);
    return new StreamingReply(this.container, article, text, meta);
  }

  clear() {
    this.container.replaceChildren();
  }

  /**
   * @param {"user" | "assistant"} role
   * @param {string} label
   */
  #addMessage(role, label) {
    const article = document.createElement("article");
    article.className = `message ${role}`;
    const heading = document.createElement("h2");
    heading.className = "role";
    heading.textContent = label;
    const content = document.createElement("div");
    content.className = "content";
    const meta = document.createElement("p");
    meta.className = "meta";
    article.append(heading, content, meta);
    this.container.append(article);
    scrollToEnd(this.container);
    return { article, content, meta };
  }
}

export class StreamingReply {
  #pending = "";
  /** @type {number | null} */
  #frame = null;

  /**
   * @param {HTMLElement} container
   * @param {HTMLElement} article
   * @param {Text} text
   * @param {HTMLElement} meta
   */
  constructor(container, article, text, meta) {
    this.container = container;
    this.article = article;
    this.textNode = text;
    this.meta = meta;
  }

  /** @param {string} text shown at the next animation frame */
  append(text) {
    this.#pending += text;
    if (this.#frame === null) this.#frame = requestAnimationFrame(() => this.flush());
  }

  /** Writes what is pending now (the stream ended, or a frame came). */
  flush() {
    if (this.#frame !== null) cancelAnimationFrame(this.#frame);
    this.#frame = null;
    if (this.#pending === "") return;
    // Follow the answer only when the reader is already at the bottom, not while they scroll back.
    const following = isAtEnd(this.container);
    this.textNode.appendData(this.#pending);
    this.#pending = "";
    if (following) scrollToEnd(this.container);
  }

  /** @returns {string} the whole reply so far, shown or pending */
  get text() {
    return this.textNode.data + this.#pending;
  }

  /**
   * The reply is over: show the rest and a note under it.
   * @param {string} note e.g. "finish_reason: stop"
   * @param {"done" | "error"} outcome
   */
  end(note, outcome = "done") {
    this.flush();
    this.meta.textContent = note;
    if (outcome === "error") this.article.classList.add("error");
  }
}

/** @param {HTMLElement} element */
const isAtEnd = (element) => element.scrollHeight - element.scrollTop - element.clientHeight < 24;

/** @param {HTMLElement} element */
const scrollToEnd = (element) => {
  element.scrollTop = element.scrollHeight;
};
