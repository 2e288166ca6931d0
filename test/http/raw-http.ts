/** Raw-socket HTTP for tests of what Node answers before Fastify sees a request. */
import { once } from "node:events";
import { connect } from "node:net";
import { expect } from "vitest";

export interface RawResponse {
  status: number;
  reason: string;
  /** Header names lower-cased. */
  headers: Record<string, string>;
  body: string;
  /** Everything the server sent, for "nothing was echoed" checks. */
  text: string;
}

/**
 * Sends `request` on a fresh connection and returns all the server sent once
 * the connection closes, so a resolved promise also proves the server closed it.
 * Only a test timeout bounds the wait: nothing here depends on timing.
 */
export async function rawExchange(port: number, request: string): Promise<RawResponse> {
  const socket = connect(port, "127.0.0.1");
  const chunks: Buffer[] = [];
  socket.on("data", (chunk: Buffer) => chunks.push(chunk));
  // A reset would surface as a parse failure below; don't let it crash the run.
  let socketError: Error | undefined;
  socket.on("error", (err) => (socketError = err));
  await once(socket, "connect");
  socket.write(request);
  await once(socket, "close");
  const text = Buffer.concat(chunks).toString("utf8");
  if (text === "" && socketError) throw socketError;
  return parseRawResponse(text);
}

/** Parses exactly one HTTP/1.1 response with a Content-Length body; anything after it fails. */
export function parseRawResponse(text: string): RawResponse {
  const split = text.indexOf("\r\n\r\n");
  if (split < 0) throw new Error(`no header block in ${JSON.stringify(text)}`);
  const [statusLine, ...headerLines] = text.slice(0, split).split("\r\n");
  const match = /^HTTP\/1\.1 (\d{3}) (.*)$/.exec(statusLine);
  if (!match) throw new Error(`bad status line ${JSON.stringify(statusLine)}`);
  const headers: Record<string, string> = {};
  for (const line of headerLines) {
    const colon = line.indexOf(":");
    if (colon <= 0) throw new Error(`bad header line ${JSON.stringify(line)}`);
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  const body = text.slice(split + 4);
  expect(headers["content-length"]).toBe(String(Buffer.byteLength(body)));
  return { status: Number(match[1]), reason: match[2], headers, body, text };
}

export interface Envelope {
  message: string;
  type: string;
  param: string | null;
  code: string | null;
}

/** Asserts the connection-level error shape: OpenAI envelope, JSON, Connection: close. */
export function expectClientErrorEnvelope(res: RawResponse, status: number, code: string): Envelope {
  expect(res.status).toBe(status);
  expect(res.headers["content-type"]).toBe("application/json; charset=utf-8");
  expect(res.headers.connection).toBe("close");
  const parsed = JSON.parse(res.body) as { error: Envelope };
  expect(Object.keys(parsed)).toEqual(["error"]);
  expect(Object.keys(parsed.error).sort()).toEqual(["code", "message", "param", "type"]);
  expect(parsed.error.type).toBe("invalid_request_error");
  expect(parsed.error.code).toBe(code);
  expect(parsed.error.param).toBeNull();
  expect(parsed.error.message.length).toBeGreaterThan(0);
  return parsed.error;
}

/** The server still serves: GET /health on a fresh connection answers 200. */
export async function expectHealthy(port: number): Promise<void> {
  const res = await rawExchange(port, "GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  expect(res.status).toBe(200);
  expect(JSON.parse(res.body)).toEqual({ status: "ok" });
}
