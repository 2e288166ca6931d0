/** Completion ids and the client's X-Request-Id. */
import { randomBytes } from "node:crypto";
import type { IncomingMessage } from "node:http";
import { invalidRequest } from "../errors.ts";

const CLIENT_ID = /^[A-Za-z0-9._:-]{1,128}$/;

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
    "Invalid X-Request-Id header: expected 1 to 128 characters of A-Z, a-z, 0-9, '.', '_', ':' or '-'.",
    "X-Request-Id",
    "invalid_value",
  );
}
