/**
 * Errors Node's HTTP parser raises before Fastify sees a request: each gets
 * the OpenAI envelope (src/http/client-error.ts), the connection is closed,
 * and the server keeps serving fresh connections.
 */
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  answerClientError,
  clientErrorResponse,
  clientErrorToApiError,
  type ClientErrorSocket,
} from "../../src/http/client-error.ts";
import { makeApp } from "./helpers.ts";
import { expectClientErrorEnvelope, expectHealthy, parseRawResponse, rawExchange } from "./raw-http.ts";

describe("clientErrorToApiError", () => {
  it.each([
    ["ERR_HTTP_REQUEST_TIMEOUT", 408, "request_timeout"],
    ["HPE_HEADER_OVERFLOW", 431, "headers_too_large"],
    ["HPE_CHUNK_EXTENSIONS_OVERFLOW", 413, "request_too_large"],
    ["HPE_INVALID_HEADER_TOKEN", 400, "invalid_http_request"],
    ["HPE_INVALID_METHOD", 400, "invalid_http_request"],
    ["HPE_INVALID_URL", 400, "invalid_http_request"],
    ["HPE_INVALID_VERSION", 400, "invalid_http_request"],
    ["HPE_UNEXPECTED_CONTENT_LENGTH", 400, "invalid_http_request"],
    ["HPE_INVALID_CHUNK_SIZE", 400, "invalid_http_request"],
    ["EPIPE", 400, "invalid_http_request"],
    [undefined, 400, "invalid_http_request"],
  ])("%s -> %i %s", (code, status, apiCode) => {
    const error = clientErrorToApiError(code);
    expect(error.status).toBe(status);
    expect(error.type).toBe("invalid_request_error");
    expect(error.code).toBe(apiCode);
    expect(error.param).toBeNull();
  });
});

describe("answerClientError on a stub socket", () => {
  function stub(state: Partial<Pick<ClientErrorSocket, "writable" | "destroyed" | "_httpMessage">> = {}) {
    const written: string[] = [];
    let destroyed = 0;
    const socket: ClientErrorSocket = {
      writable: state.writable ?? true,
      destroyed: state.destroyed ?? false,
      _httpMessage: state._httpMessage,
      write: (data: string) => written.push(data),
      destroy: () => (destroyed += 1),
    };
    return { socket, written, destroyCount: () => destroyed };
  }

  it("writes one raw response, then destroys the socket", () => {
    const s = stub();
    answerClientError({ code: "HPE_HEADER_OVERFLOW" }, s.socket);
    expect(s.written).toEqual([clientErrorResponse(clientErrorToApiError("HPE_HEADER_OVERFLOW"))]);
    const res = parseRawResponse(s.written[0]);
    expect(res.reason).toBe("Request Header Fields Too Large");
    expectClientErrorEnvelope(res, 431, "headers_too_large");
    expect(s.destroyCount()).toBe(1);
  });

  it("writes while a response is in flight but has not started (a slow body)", () => {
    const s = stub({ _httpMessage: { headersSent: false } });
    answerClientError({ code: "ERR_HTTP_REQUEST_TIMEOUT" }, s.socket);
    expect(s.written).toHaveLength(1);
    expect(s.destroyCount()).toBe(1);
  });

  it.each([
    ["ECONNRESET", { code: "ECONNRESET" }, {}],
    ["a destroyed socket", { code: "HPE_INVALID_METHOD" }, { destroyed: true }],
    ["a socket that is not writable", { code: "HPE_INVALID_METHOD" }, { writable: false }],
    // A pipelined request's error must not corrupt the response already being written.
    ["a response already started", { code: "ERR_HTTP_REQUEST_TIMEOUT" }, { _httpMessage: { headersSent: true } }],
  ])("%s: writes nothing, destroys", (_name, err, state) => {
    const s = stub(state);
    answerClientError(err, s.socket);
    expect(s.written).toEqual([]);
    expect(s.destroyCount()).toBe(1);
  });
});

describe("on a real server", () => {
  const { app } = makeApp();
  let port = 0;
  beforeAll(async () => {
    await app.listen({ host: "127.0.0.1", port: 0 });
    port = (app.server.address() as AddressInfo).port;
  });
  afterAll(() => app.close());

  it("a malformed header line: 400 envelope, the line not echoed", async () => {
    const res = await rawExchange(port, "GET /health HTTP/1.1\r\nHost: x\r\nBad Header-zq7\r\n\r\n");
    const error = expectClientErrorEnvelope(res, 400, "invalid_http_request");
    expect(error.message).toBe("The request is not valid HTTP/1.1 and could not be parsed.");
    expect(res.text).not.toContain("zq7");
    await expectHealthy(port);
  });

  it("a garbage request line: 400 envelope, the bytes not echoed", async () => {
    const res = await rawExchange(port, "THIS IS NOT HTTP-zq7\r\n\r\n");
    const error = expectClientErrorEnvelope(res, 400, "invalid_http_request");
    expect(error.message).toBe("The request is not valid HTTP/1.1 and could not be parsed.");
    expect(res.text).not.toContain("zq7");
    await expectHealthy(port);
  });

  it("headers over Node's 16 KiB limit: 431 envelope", async () => {
    const res = await rawExchange(port, `GET /health HTTP/1.1\r\nHost: x\r\nX-Big: ${"a".repeat(20 * 1024)}\r\n\r\n`);
    const error = expectClientErrorEnvelope(res, 431, "headers_too_large");
    expect(error.message).toBe("The request headers are larger than this server accepts.");
    expect(res.reason).toBe("Request Header Fields Too Large");
    await expectHealthy(port);
  });

  it("chunk extensions over Node's limit: 413 envelope", async () => {
    // Headers are complete, so Fastify has a request in flight (waiting for the
    // JSON body) when the parser fails: the in-flight-but-unstarted path.
    const res = await rawExchange(
      port,
      "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n" +
        `1;ext=${"a".repeat(20 * 1024)}\r\n{\r\n`,
    );
    expectClientErrorEnvelope(res, 413, "request_too_large");
    await expectHealthy(port);
  });
});
