/**
 * An error the server answered, in OpenAI's envelope
 * `{"error": {"message", "type", "param", "code"}}`: from a non-2xx
 * response, or from an error event inside a stream.
 */
export class ApiError extends Error {
  /**
   * @param {string} message the server's own words
   * @param {number | null} status the HTTP status; null for an error event inside a stream
   * @param {string | null} code the envelope's `code` (`invalid_api_key`, `not_found`, …)
   */
  constructor(message, status, code) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
  }
}

/**
 * @param {unknown} body a parsed JSON body or stream event
 * @returns {{ message: string, code: string | null } | null} its error, when it is an OpenAI error envelope
 */
export function envelopeError(body) {
  if (typeof body !== "object" || body === null || !("error" in body)) return null;
  const error = /** @type {{ error: unknown }} */ (body).error;
  if (typeof error !== "object" || error === null) return null;
  const { message, code } = /** @type {{ message?: unknown, code?: unknown }} */ (error);
  return { message: typeof message === "string" ? message : "The server reported an error.", code: typeof code === "string" ? code : null };
}

/**
 * @param {Response} response a response that is not ok
 * @returns {Promise<ApiError>} the envelope's message, or the status line when the body is not an envelope (a gateway's own error page)
 */
export async function errorFromResponse(response) {
  /** @type {unknown} */
  let body = null;
  try {
    body = await response.json();
  } catch {
    // Not JSON: fall back to the status line below.
  }
  const error = envelopeError(body);
  const message = error?.message ?? `${response.status} ${response.statusText}`.trim();
  return new ApiError(message, response.status, error?.code ?? null);
}
