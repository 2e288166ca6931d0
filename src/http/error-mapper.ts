/**
 * The one place errors become responses. ApiErrors are shown as they are;
 * Fastify's own client errors (body limit, media type, JSON syntax) get the
 * OpenAI envelope; anything else is a bug: 500 with a generic message, the
 * real error logged with the request id.
 */
import type { FastifyBaseLogger, FastifyReply, FastifyRequest } from "fastify";
import { ApiError, bodyTooLarge, emptyBody, internalError, invalidJson, unknownUrl, unsupportedMediaType } from "../errors.ts";

interface FastifyClientError {
  code: string;
  statusCode: number;
}

function isFastifyClientError(err: unknown): err is FastifyClientError & Error {
  if (!(err instanceof Error)) return false;
  const { code, statusCode } = err as Error & Partial<FastifyClientError>;
  return typeof code === "string" && code.startsWith("FST_") && typeof statusCode === "number" && statusCode >= 400 && statusCode < 500;
}

/** Our own wording for the framework errors a client can cause. */
function fromFastify(err: FastifyClientError & Error): ApiError {
  switch (err.code) {
    case "FST_ERR_CTP_BODY_TOO_LARGE":
      return bodyTooLarge();
    case "FST_ERR_CTP_INVALID_MEDIA_TYPE":
      return unsupportedMediaType();
    case "FST_ERR_CTP_EMPTY_JSON_BODY":
      return emptyBody();
    case "FST_ERR_CTP_INVALID_JSON_BODY":
      return invalidJson();
    default:
      // Other FST_ 4xx messages are fixed framework text, safe to show.
      return new ApiError(err.statusCode, "invalid_request_error", err.message);
  }
}

/** Maps any thrown value to the ApiError the client sees, logging what must not be shown. */
export function toApiError(err: unknown, log: FastifyBaseLogger): ApiError {
  if (err instanceof ApiError) {
    if (err.status >= 500) log.warn({ status: err.status, code: err.code }, err.message);
    return err;
  }
  if (isFastifyClientError(err)) return fromFastify(err);
  log.error({ err }, "unhandled error");
  return internalError();
}

export function sendApiError(reply: FastifyReply, error: ApiError): FastifyReply {
  if (error.retryAfter !== undefined) reply.header("retry-after", String(Math.max(0, Math.ceil(error.retryAfter))));
  return reply.code(error.status).type("application/json; charset=utf-8").send(error.toBody());
}

export function errorHandler(err: unknown, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  return sendApiError(reply, toApiError(err, request.log));
}

export function notFoundHandler(request: FastifyRequest, reply: FastifyReply): FastifyReply {
  // The URL is echoed as data in a JSON string, which escapes it; it is never HTML.
  const path = request.url.length > 200 ? `${request.url.slice(0, 200)}…` : request.url;
  return sendApiError(reply, unknownUrl(request.method, path));
}
