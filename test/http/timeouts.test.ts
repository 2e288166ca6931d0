/** Slowloris: a client that never finishes its headers is cut off, not held forever. */
import { once } from "node:events";
import { connect } from "node:net";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, expect, it } from "vitest";
import { makeApp } from "./helpers.ts";

const { app } = makeApp({ headersTimeoutMs: 1000, requestTimeoutMs: 1000 });
let port = 0;
beforeAll(async () => {
  await app.listen({ host: "127.0.0.1", port: 0 });
  port = (app.server.address() as AddressInfo).port;
});
afterAll(() => app.close());

it("incomplete headers: the server answers 408 and closes the socket", async () => {
  const socket = connect(port, "127.0.0.1");
  await once(socket, "connect");
  socket.write("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nX-Slow: ");
  let received = "";
  socket.on("data", (d) => (received += String(d)));
  const started = Date.now();
  await once(socket, "close");
  expect(Date.now() - started).toBeLessThan(5000);
  expect(received).toMatch(/^HTTP\/1\.1 408/);
}, 10_000);

it("a slow body: the request times out", async () => {
  const socket = connect(port, "127.0.0.1");
  await once(socket, "connect");
  socket.write("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{");
  let received = "";
  socket.on("data", (d) => (received += String(d)));
  await once(socket, "close");
  expect(received).toMatch(/^HTTP\/1\.1 408/);
}, 10_000);
