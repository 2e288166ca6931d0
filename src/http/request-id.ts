/**
 * Completion ids and the client's X-Request-Id.
 *
 * A client id is any run of visible ASCII (0x21-0x7E) up to 256
 * characters: that takes the ids gateways and tracers put there (AWS
 * `Root=1-5f84c7a1-…;Sampled=1`, braced GUIDs, W3C trace ids, nginx's
 * $request_id) while keeping spaces, control characters and non-ASCII
 * bytes out of logs, Redis keys and the response header it is echoed in.
 */
import { randomBytes } from "node:crypto";
import type { IncomingMessage } from "node:http";
import { invalidRequest } from "../errors.ts";

export const MAX_CLIENT_REQUEST_ID_LENGTH = 256;

const CLIENT_ID = new RegExp(`^[\\x21-\\x7E]{1,${MAX_CLIENT_REQUEST_ID_LENGTH}}$`);

const randomPart = (): string => randomBytes(18).toString("base64url");

export const newCompletionId = (endpoint: "chat" | "completion"): string =>
  `${endpoint === "chat" ? "chatcmpl" : "cmpl"}-${randomPart()}`;

/** The client's X-Request-Id if it is well formed, for logs; a fresh id otherwise. */
export function logRequestId(req: IncomingMessage): string {
  return wellFormedClientRequestId(req.headers["x-request-id"]) ?? `req-${randomPart()}`;
}

/** The client's X-Request-Id if it is well formed; undefined otherwise, for logs and metrics that must not throw. */
export function wellFormedClientRequestId(header: string | string[] | undefined): string | undefined {
  return typeof header === "string" && CLIENT_ID.test(header) ? header : undefined;
}

/** The client's X-Request-Id as a cancel handle; malformed ones are a 400 rather than silently dropped. */
export function clientRequestId(header: string | string[] | undefined): string | undefined {
  if (header === undefined) return undefined;
  const id = wellFormedClientRequestId(header);
  if (id !== undefined) return id;
  throw invalidRequest(
    `Invalid X-Request-Id header: expected 1 to ${MAX_CLIENT_REQUEST_ID_LENGTH} visible ASCII characters (no spaces, no control or non-ASCII characters; a repeated header counts as one joined with ", ").`,
    "X-Request-Id",
    "invalid_value",
  );
}
