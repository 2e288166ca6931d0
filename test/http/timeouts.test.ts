/**
 * Slowloris: a client that never finishes its headers or body is cut off, not
 * held forever, and told so in the OpenAI envelope (src/http/client-error.ts).
 */
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, expect, it } from "vitest";
import { makeApp } from "./helpers.ts";
import { expectClientErrorEnvelope, expectHealthy, rawExchange } from "./raw-http.ts";

const { app } = makeApp({ headersTimeoutMs: 1000, requestTimeoutMs: 1000 });
let port = 0;
beforeAll(async () => {
  await app.listen({ host: "127.0.0.1", port: 0 });
  port = (app.server.address() as AddressInfo).port;
});
afterAll(() => app.close());

it("incomplete headers: the server answers 408 in the envelope and closes the socket", async () => {
  // rawExchange resolves only once the server has closed the connection.
  const res = await rawExchange(port, "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nX-Slow: ");
  const error = expectClientErrorEnvelope(res, 408, "request_timeout");
  expect(error.message).toBe("The request was not received in time; the connection is closed.");
  await expectHealthy(port);
}, 10_000);

it("a slow body: the request times out with 408 in the envelope", async () => {
  // Headers complete, so a request is in flight in Fastify when the timeout fires.
  const res = await rawExchange(
    port,
    "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{",
  );
  expectClientErrorEnvelope(res, 408, "request_timeout");
  await expectHealthy(port);
}, 10_000);
