/**
 * The one place errors become responses. ApiErrors are shown as they are;
 * Fastify's own client errors (body limit, media type, JSON syntax) get the
 * OpenAI envelope; anything else is a bug: 500 with a generic message, the
 * real error logged with the request id.
 */
import type { FastifyBaseLogger, FastifyError, FastifyReply, FastifyRequest } from "fastify";
import { ApiError, bodyTooLarge, emptyBody, internalError, invalidJson, invalidRequest, notFound, unknownUrl, unsupportedMediaType } from "../errors.ts";
import { MAX_CLIENT_REQUEST_ID_LENGTH } from "./request-id.ts";

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

/**
 * Fastify's routing errors, raised before any route or hook runs: a URL
 * whose percent-encoding does not decode (400), and a path parameter longer
 * than the router takes, which on the cancel routes is an id longer than
 * any handle can be (404, as for an unknown id).
 */
export function frameworkErrorHandler(error: FastifyError, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  // The hooks that echo X-Request-Id did not run.
  reply.header("x-request-id", request.id);
  switch (error.code) {
    case "FST_ERR_MAX_PARAM_LENGTH":
      return sendApiError(reply, notFound(`No completion has an id that long: ids are at most ${MAX_CLIENT_REQUEST_ID_LENGTH} characters.`, "not_found"));
    case "FST_ERR_BAD_URL":
      return sendApiError(reply, invalidRequest("The request URL is not valid: a percent-encoded part does not decode.", null, "invalid_url"));
    default:
      return sendApiError(reply, toApiError(error, request.log));
  }
}

export function notFoundHandler(request: FastifyRequest, reply: FastifyReply): FastifyReply {
  // The URL is echoed as data in a JSON string, which escapes it; it is never HTML.
  const path = request.url.length > 200 ? `${request.url.slice(0, 200)}…` : request.url;
  return sendApiError(reply, unknownUrl(request.method, path));
}
