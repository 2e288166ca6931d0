/**
 * The one error type that crosses layers. Anything thrown as an ApiError is
 * shown to the client in the OpenAI envelope; anything else is a bug and is
 * mapped to a 500 with its message hidden (see http/error-mapper.ts).
 */
export type OpenAiErrorType =
  | "invalid_request_error"
  | "authentication_error"
  | "rate_limit_error"
  | "server_error";

export interface ApiErrorOptions {
  param?: string | null;
  code?: string | null;
  /** Seconds, sent as Retry-After (429, 503). */
  retryAfter?: number;
}

export class ApiError extends Error {
  readonly status: number;
  readonly type: OpenAiErrorType;
  readonly param: string | null;
  readonly code: string | null;
  readonly retryAfter: number | undefined;

  constructor(status: number, type: OpenAiErrorType, message: string, options: ApiErrorOptions = {}) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.type = type;
    this.param = options.param ?? null;
    this.code = options.code ?? null;
    this.retryAfter = options.retryAfter;
  }

  toBody(): { error: { message: string; type: OpenAiErrorType; param: string | null; code: string | null } } {
    return { error: { message: this.message, type: this.type, param: this.param, code: this.code } };
  }
}

export const invalidRequest = (message: string, param: string | null = null, code: string | null = null): ApiError =>
  new ApiError(400, "invalid_request_error", message, { param, code });

export const notFound = (message: string, code: string): ApiError =>
  new ApiError(404, "invalid_request_error", message, { code });

/**
 * A client X-Request-Id that a queued or running request already holds. A
 * 400, not 409: the official SDKs retry 408, 409, 429 and 5xx on their own,
 * and a retry of this can only fail the same way until the first request ends.
 */
export const requestIdInUse = (id: string): ApiError =>
  invalidRequest(
    `X-Request-Id "${id}" is already used by a queued or running request; send each request with its own id (it may be reused once that request has ended).`,
    "X-Request-Id",
    "request_id_in_use",
  );

export const unauthorized = (message: string): ApiError =>
  new ApiError(401, "authentication_error", message, { code: "invalid_api_key" });

export const modelNotFound = (model: string): ApiError =>
  new ApiError(404, "invalid_request_error", `The model '${model}' does not exist.`, { param: "model", code: "model_not_found" });

export const completionNotFound = (id: string): ApiError => notFound(`No completion with id '${id}' was found.`, "not_found");

export const unknownUrl = (method: string, path: string): ApiError =>
  notFound(`Unknown request URL: ${method} ${path}.`, "unknown_url");

export const unsupportedField = (param: string, detail = ""): ApiError =>
  new ApiError(400, "invalid_request_error", `'${param}' is not supported by this server${detail}.`, {
    param,
    code: "unsupported_parameter",
  });

/*
 * What a client is told when its bytes are not a request we can read: the
 * body (over the limit, not JSON) or the HTTP framing itself (Node's parser
 * and timeouts). Fixed text: the framework's own messages can carry the
 * client's bytes, which are never echoed.
 */
const badFraming = (status: number, message: string, code: string): ApiError =>
  new ApiError(status, "invalid_request_error", message, { code });

export const bodyTooLarge = (): ApiError => badFraming(413, "The request body is larger than this server accepts.", "request_too_large");

export const unsupportedMediaType = (): ApiError =>
  badFraming(415, "The request body must be JSON (Content-Type: application/json).", "unsupported_media_type");

export const emptyBody = (): ApiError => invalidRequest("The request body is empty; expected a JSON object.");

export const invalidJson = (): ApiError =>
  invalidRequest("The request body is not valid JSON (or contains a forbidden __proto__/constructor key).", null, "invalid_json");

export const requestTimeout = (): ApiError =>
  badFraming(408, "The request was not received in time; the connection is closed.", "request_timeout");

export const headersTooLarge = (): ApiError => badFraming(431, "The request headers are larger than this server accepts.", "headers_too_large");

export const chunkExtensionsTooLarge = (): ApiError =>
  badFraming(413, "The request body's chunk extensions are larger than this server accepts.", "request_too_large");

export const invalidHttp = (): ApiError => badFraming(400, "The request is not valid HTTP/1.1 and could not be parsed.", "invalid_http_request");

/** A bug or a fault on our side: the message is generic on purpose; the cause is logged, never sent. */
export const internalError = (): ApiError =>
  new ApiError(500, "server_error", "The server had an error while processing your request.", { code: "internal_error" });

/**
 * The rows a worker held when it failed. Generic on purpose, like
 * internalError: the worker's own message is logged, never sent.
 */
export const workerFailed = (how: "died" | "step"): ApiError =>
  new ApiError(
    500,
    "server_error",
    how === "died"
      ? "The model worker stopped unexpectedly; the request was aborted."
      : "The model worker failed while generating; the request was aborted.",
    { code: "internal_error" },
  );

export const queueFull = (retryAfterSeconds: number): ApiError =>
  new ApiError(429, "rate_limit_error", "The server is at capacity; retry later.", {
    code: "rate_limit_exceeded",
    retryAfter: retryAfterSeconds,
  });

export const unavailable = (message: string, retryAfterSeconds?: number): ApiError =>
  new ApiError(503, "server_error", message, { code: "service_unavailable", retryAfter: retryAfterSeconds });

/**
 * A cancel for a request this replica does not hold, when finding or
 * reaching the replica that holds it needs what is down: Redis, or that
 * replica's link to it. A 503, so a gateway may retry it on another replica.
 */
export const cancelRelayUnavailable = (handle: string, reason: string): ApiError =>
  unavailable(`Cannot cancel '${handle}' from this replica: ${reason}. Retry the cancel shortly.`, 1);

export const contextLengthExceeded = (
  promptTokens: number,
  maxTokens: number,
  contextLength: number,
  param: string,
): ApiError =>
  invalidRequest(
    `This model's maximum context length is ${contextLength} tokens. However, you requested ` +
      `${promptTokens + maxTokens} tokens (${promptTokens} in the prompt, ${maxTokens} for the completion). ` +
      `Please reduce the prompt or max_tokens.`,
    param,
    "context_length_exceeded",
  );

/** A prompt over the server's own limit (--max-prompt-tokens), whatever the context. */
export const promptOverServerLimit = (promptTokens: number, limit: number, param: string): ApiError =>
  invalidRequest(`The prompt has ${promptTokens} tokens; this server accepts at most ${limit}.`, param, "context_length_exceeded");

/** A prompt that leaves no room in the context for even one generated token. */
export const promptFillsContext = (promptTokens: number, contextLength: number, param: string): ApiError =>
  invalidRequest(
    `This model's maximum context length is ${contextLength} tokens. However, your prompt has ${promptTokens} tokens, ` +
      `which leaves no room for the completion. Please reduce the prompt.`,
    param,
    "context_length_exceeded",
  );

/** For prompts refused before tokenizing: the count is a proven lower bound. */
export const promptFarTooLong = (atLeastTokens: number, contextLength: number, param: string): ApiError =>
  invalidRequest(
    `This model's maximum context length is ${contextLength} tokens. However, your prompt has at least ` +
      `${atLeastTokens} tokens (counted from its length, before tokenizing). Please reduce the prompt.`,
    param,
    "context_length_exceeded",
  );

/** An internal failure whose message must not reach the client. */
export class InternalError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "InternalError";
  }
}

/** An ApiError as it crosses a thread boundary (structured clone keeps no class). */
export interface SerializedError {
  status: number;
  type: OpenAiErrorType;
  message: string;
  param: string | null;
  code: string | null;
}

/** Client errors keep their status and words; anything else becomes a 500 whose message stays internal. */
export function serializeError(error: unknown): SerializedError {
  if (error instanceof ApiError) {
    return { status: error.status, type: error.type, message: error.message, param: error.param, code: error.code };
  }
  const message = error instanceof Error ? error.message : String(error);
  return { status: 500, type: "server_error", message, param: null, code: null };
}

/** The other half of serializeError: an ApiError for 4xx, an InternalError (shown as a generic 500) otherwise. */
export function deserializeError(e: SerializedError, where: string): Error {
  if (e.status < 500) return new ApiError(e.status, e.type, e.message, { param: e.param, code: e.code });
  return new InternalError(`${where}: ${e.message}`);
}
