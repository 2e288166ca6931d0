/**
 * --sse-heartbeat-ms over a real socket: a stream whose engine has nothing
 * to send yet (queued, long prefill) gets `: keep-alive` comments after its
 * role chunk, and its data frames are unchanged. The fake engine holds its
 * first token until the reader has seen two comments, so nothing here waits
 * for a time: only for what the server writes.
 */
import { request as httpRequest, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { once } from "node:events";
import { afterAll, describe, expect, it } from "vitest";
import { SSE_HEARTBEAT } from "../../src/http/sse-writer.ts";
import { USAGE, type EventScript } from "./fake-engine.ts";
import { chatBody, makeApp } from "./helpers.ts";

async function listen(sseHeartbeatMs: number) {
  const { app, engine } = makeApp({ sseHeartbeatMs });
  await app.listen({ host: "127.0.0.1", port: 0 });
  return { app, engine, port: (app.server.address() as AddressInfo).port };
}

async function postStream(port: number): Promise<IncomingMessage> {
  const payload = JSON.stringify(chatBody({ stream: true }));
  const req = httpRequest({
    host: "127.0.0.1",
    port,
    method: "POST",
    path: "/v1/chat/completions",
    headers: { "content-type": "application/json", "content-length": Buffer.byteLength(payload) },
  });
  req.end(payload);
  const [res] = (await once(req, "response")) as [IncomingMessage];
  return res;
}

describe("SSE heartbeat", () => {
  const apps: Array<{ close(): Promise<unknown> }> = [];
  afterAll(() => Promise.all(apps.map((a) => a.close())));

  it("a silent stream gets ': keep-alive' comments between its frames; the data frames are as without them", async () => {
    const server = await listen(20);
    apps.push(server.app);
    let sawComments!: () => void;
    const twoComments = new Promise<void>((resolve) => (sawComments = resolve));
    const script: EventScript = async function* () {
      // Queued: nothing to send until the client has seen the heartbeat twice.
      await twoComments;
      yield { type: "delta", index: 0, text: "Hello" };
      yield { type: "finish", index: 0, finishReason: "stop" };
      yield { type: "end", usage: USAGE };
    };
    server.engine.script = script;
    const res = await postStream(server.port);
    let body = "";
    for await (const chunk of res) {
      body += String(chunk);
      if (body.split(SSE_HEARTBEAT).length - 1 >= 2) sawComments();
    }
    const frames = body.split("\n\n").slice(0, -1);
    const comments = frames.filter((f) => f.startsWith(":"));
    expect(comments.length).toBeGreaterThanOrEqual(2);
    for (const c of comments) expect(`${c}\n\n`).toBe(SSE_HEARTBEAT);
    const data = frames.filter((f) => !f.startsWith(":"));
    expect(data.every((f) => f.startsWith("data: "))).toBe(true);
    expect(data.at(-1)).toBe("data: [DONE]");
    // The role chunk comes first, before any comment: the client has the id at once.
    expect(frames[0]).toMatch(/^data: .*"role":"assistant"/);
    expect(JSON.parse(data[1].slice(6)).choices[0].delta.content).toBe("Hello");
  });

  it("--sse-heartbeat-ms 0 sends no comment", async () => {
    const server = await listen(0);
    apps.push(server.app);
    const res = await postStream(server.port);
    let body = "";
    for await (const chunk of res) body += String(chunk);
    const frames = body.split("\n\n").slice(0, -1);
    expect(frames.length).toBeGreaterThan(2);
    expect(frames.filter((f) => !f.startsWith("data: "))).toEqual([]);
    expect(frames.at(-1)).toBe("data: [DONE]");
  });
});
