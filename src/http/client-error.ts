/**
 * Errors Node's HTTP server raises before there is a request to answer:
 * parser failures (HPE_*) and the headersTimeout/requestTimeout checks.
 * They never reach Fastify's error handler (error-mapper.ts), and Fastify's
 * default clientErrorHandler writes a JSON body of its own shape, so without
 * this module they would be the only errors not in the OpenAI envelope.
 *
 * There is no request or reply object here: the response is written as raw
 * HTTP/1.1 bytes on the socket, which is then destroyed, as Node's own
 * default does (lib/_http_server.js, socketOnError).
 */
import { STATUS_CODES } from "node:http";
import type { Socket } from "node:net";
import type { FastifyBaseLogger, FastifyInstance } from "fastify";
import { chunkExtensionsTooLarge, headersTooLarge, invalidHttp, requestTimeout, type ApiError } from "../errors.ts";

/**
 * Maps the code of a client connection error to what the client is told.
 * The messages are fixed text: the error's own message and err.rawPacket can
 * carry the client's bytes, which must not be echoed back.
 */
export function clientErrorToApiError(code: string | undefined): ApiError {
  switch (code) {
    // headersTimeout and requestTimeout both surface as this code.
    case "ERR_HTTP_REQUEST_TIMEOUT":
      return requestTimeout();
    // More header bytes than --max-http-header-size (16 KiB by default).
    case "HPE_HEADER_OVERFLOW":
      return headersTooLarge();
    // Chunked-body extensions past Node's limit; Node's own default answers 413 too.
    case "HPE_CHUNK_EXTENSIONS_OVERFLOW":
      return chunkExtensionsTooLarge();
    // Every other parser error (bad request line, malformed header, bad
    // chunk framing, conflicting lengths) and any other socket error: 400,
    // as Node's default does for anything it does not name.
    default:
      return invalidHttp();
  }
}

/** The raw response: a status line, the headers every error needs, and the envelope. */
export function clientErrorResponse(error: ApiError): string {
  const body = JSON.stringify(error.toBody());
  return (
    `HTTP/1.1 ${error.status} ${STATUS_CODES[error.status] ?? "Error"}\r\n` +
    "Content-Type: application/json; charset=utf-8\r\n" +
    `Content-Length: ${Buffer.byteLength(body)}\r\n` +
    // The parser's state is unknown after an error, so the connection cannot be reused.
    "Connection: close\r\n" +
    "\r\n" +
    body
  );
}

/**
 * What this module needs of the socket (a net.Socket satisfies it; tests pass
 * a stub). `_httpMessage` is Node's untyped link to the response in flight on
 * this connection, if any.
 */
export interface ClientErrorSocket {
  readonly writable: boolean;
  readonly destroyed: boolean;
  write(data: string): unknown;
  destroy(): unknown;
  readonly _httpMessage?: { readonly headersSent: boolean } | null;
}

/** Answers a client connection error on its socket, when it is still safe to, and closes the socket. */
export function answerClientError(err: { code?: string }, socket: ClientErrorSocket, log?: FastifyBaseLogger): void {
  // ECONNRESET: the peer is gone and the socket already destroyed (Node's docs for 'clientError').
  if (err.code === "ECONNRESET" || socket.destroyed) {
    socket.destroy();
    return;
  }
  const error = clientErrorToApiError(err.code);
  // A client's malformed bytes are its own problem, not the server's: debug, so scanners cannot flood the log.
  log?.debug({ code: err.code, status: error.status }, "client connection error");
  // With keep-alive, the error may belong to a pipelined request while an
  // earlier response (an SSE stream, say) is already being written: a status
  // line now would corrupt that response. Node's default skips the write then too.
  const responseStarted = socket._httpMessage?.headersSent === true;
  if (socket.writable && !responseStarted) {
    // A few hundred bytes: libuv hands them to the kernel synchronously, so the
    // destroy below does not drop them, and a client sending garbage cannot hold the socket.
    socket.write(clientErrorResponse(error));
  }
  socket.destroy();
}

/** Fastify's clientErrorHandler option; Fastify binds `this` to the instance. */
export function clientErrorHandler(this: FastifyInstance, err: { code?: string }, socket: Socket): void {
  answerClientError(err, socket, this.log);
}
