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

export const conflict = (message: string, param: string | null = null): ApiError =>
  new ApiError(409, "invalid_request_error", message, { param, code: "conflict" });

export const queueFull = (retryAfterSeconds: number): ApiError =>
  new ApiError(429, "rate_limit_error", "The server is at capacity; retry later.", {
    code: "rate_limit_exceeded",
    retryAfter: retryAfterSeconds,
  });

export const unavailable = (message: string, retryAfterSeconds?: number): ApiError =>
  new ApiError(503, "server_error", message, { code: "service_unavailable", retryAfter: retryAfterSeconds });

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
