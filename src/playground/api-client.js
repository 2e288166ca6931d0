/**
 * The server's API as the page uses it.
 *
 * Every URL is relative ("v1/models", never "/v1/models"), so it resolves
 * against the page's own address: served as https://host/some/prefix/
 * behind a gateway, the page calls https://host/some/prefix/v1/models.
 *
 * The API key lives only in this object, in the page's memory: never in
 * localStorage, sessionStorage or a cookie. Reloading the page forgets it.
 */
import { errorFromResponse } from "./api-error.js";

export const MODELS_URL = "v1/models";
export const CHAT_URL = "v1/chat/completions";

/**
 * @param {string} requestId the X-Request-Id the page sent with the request
 * @returns {string} the stop endpoint for that request
 */
export const cancelUrl = (requestId) => `${CHAT_URL}/${encodeURIComponent(requestId)}/cancel`;

/**
 * @typedef {import("./chat-stream.js").Usage} Usage
 * @typedef {{ id: string, status: "cancelled" | "already_finished", usage: Usage }} Cancellation
 */

export class ApiClient {
  /** @type {string | null} */
  #apiKey = null;

  /** @param {string} key sent as `Authorization: Bearer <key>` from now on; "" sends none */
  setApiKey(key) {
    this.#apiKey = key === "" ? null : key;
  }

  /** @returns {boolean} */
  get hasApiKey() {
    return this.#apiKey !== null;
  }

  /**
   * @param {Record<string, string>} extra
   * @returns {Record<string, string>}
   */
  #headers(extra = {}) {
    return this.#apiKey === null ? extra : { ...extra, authorization: `Bearer ${this.#apiKey}` };
  }

  /**
   * @returns {Promise<string[]>} the ids of the served models
   * @throws {import("./api-error.js").ApiError} status 401 when the server wants a (different) key
   */
  async listModels() {
    const response = await fetch(MODELS_URL, { headers: this.#headers(), cache: "no-store" });
    if (!response.ok) throw await errorFromResponse(response);
    const list = /** @type {{ data: Array<{ id: string }> }} */ (await response.json());
    return list.data.map((model) => model.id);
  }

  /**
   * Sends a streamed chat request under an id the page chose, so that Stop
   * can name it before the first chunk (or even the response head) arrives.
   * @param {Record<string, unknown>} body the request body, `"stream": true` included
   * @param {string} requestId sent as X-Request-Id
   * @param {AbortSignal} signal aborts the fetch; only a fallback, Stop uses the stop endpoint
   * @returns {Promise<ReadableStream<Uint8Array>>} the event-stream body
   */
  async startChat(body, requestId, signal) {
    const response = await fetch(CHAT_URL, {
      method: "POST",
      headers: this.#headers({ "content-type": "application/json", "x-request-id": requestId }),
      body: JSON.stringify(body),
      signal,
    });
    if (!response.ok) throw await errorFromResponse(response);
    if (response.body === null) throw new Error("The server sent no stream.");
    return response.body;
  }

  /**
   * The stop endpoint: the server stops generating, ends the stream with
   * finish_reason "cancelled" and answers with the usage so far.
   * @param {string} requestId the X-Request-Id of the request to stop
   * @returns {Promise<Cancellation>}
   */
  async cancelChat(requestId) {
    const response = await fetch(cancelUrl(requestId), { method: "POST", headers: this.#headers() });
    if (!response.ok) throw await errorFromResponse(response);
    return /** @type {Cancellation} */ (await response.json());
  }
}

/**
 * An X-Request-Id for one request (the server accepts 1 to 256 visible
 * ASCII characters). crypto.getRandomValues, not randomUUID: the latter
 * exists only in secure contexts, and the page may be opened over plain
 * http from another machine.
 * @returns {string}
 */
export function newRequestId() {
  const bytes = crypto.getRandomValues(new Uint8Array(12));
  return `playground-${Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("")}`;
}
