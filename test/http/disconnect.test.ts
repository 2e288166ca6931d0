/**
 * Closing the connection cancels: a real server on 127.0.0.1:0, a raw HTTP
 * client that destroys its socket, and the fake engine observing the abort
 * (no sleeps: every wait is on an event).
 */
import { once } from "node:events";
import { request as httpRequest, type ClientRequest, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, expect, it } from "vitest";
import { untilAbortScript } from "./fake-engine.ts";
import { chatBody, makeApp } from "./helpers.ts";

const { app, engine } = makeApp();
let port = 0;
beforeAll(async () => {
  await app.listen({ host: "127.0.0.1", port: 0 });
  port = (app.server.address() as AddressInfo).port;
});
afterAll(() => app.close());

function post(body: unknown): { req: ClientRequest; response: Promise<IncomingMessage> } {
  const payload = JSON.stringify(body);
  const req = httpRequest({
    host: "127.0.0.1",
    port,
    method: "POST",
    path: "/v1/chat/completions",
    headers: { "content-type": "application/json", "content-length": Buffer.byteLength(payload) },
  });
  req.on("error", () => {}); // destroying our own socket is the point
  const response = once(req, "response").then(([res]) => res as IncomingMessage);
  response.catch(() => {});
  req.end(payload);
  return { req, response };
}

const aborted = (signal: AbortSignal): Promise<void> =>
  signal.aborted ? Promise.resolve() : new Promise((resolve) => signal.addEventListener("abort", () => resolve(), { once: true }));

it("disconnect mid-stream aborts the signal and ends the iteration", async () => {
  engine.script = untilAbortScript;
  const started = engine.nextStart();
  const { req, response } = post(chatBody({ stream: true }));
  const call = await started;
  const res = await response;
  expect(res.headers["content-type"]).toMatch(/^text\/event-stream/);
  // Wait for the first content chunk so we are really mid-stream.
  let received = "";
  for await (const chunk of res) {
    received += String(chunk);
    if (received.includes('"content":"Hel"')) break;
  }
  expect(call.options.signal.aborted).toBe(false);
  req.destroy();
  await aborted(call.options.signal);
  expect(call.options.signal.aborted).toBe(true);
  await call.returned;
});

it("disconnect during a non-streamed request aborts too", async () => {
  engine.script = untilAbortScript;
  const started = engine.nextStart();
  const { req } = post(chatBody());
  const call = await started;
  expect(call.options.signal.aborted).toBe(false);
  req.destroy();
  await aborted(call.options.signal);
  // The handler leaves the loop after the abort, which returns the iterator (the engine's finally).
  await call.returned;
});

it("a normal request completes without aborting, and the server keeps serving", async () => {
  engine.script = (await import("./fake-engine.ts")).helloScript;
  const started = engine.nextStart();
  const { response } = post(chatBody({ stream: true }));
  const call = await started;
  const res = await response;
  let body = "";
  for await (const chunk of res) body += String(chunk);
  expect(body.endsWith("data: [DONE]\n\n")).toBe(true);
  expect(call.options.signal.aborted).toBe(false);
});
