/**
 * The per-request log line (docs/API.md, "The request log line") from the
 * real app over the real engine, with a capturing pino logger: one line per
 * generation request whatever ended it (streamed, answered, cancelled
 * through the stop endpoint, refused with a 400 or a 401), with the
 * documented fields; the prompt only under --log-prompts; never an API key.
 */
import { Writable } from "node:stream";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eosBan, tinyChat } from "../support/fixtures.ts";
import { postJson, readSse, startLiveServer, until, type LiveServer } from "../support/live-server.ts";

const KEY = "sk-log-line-do-not-log-4c1e";
const WRONG = "sk-log-line-wrong-do-not-log-77aa";
const auth = (key = KEY): Record<string, string> => ({ authorization: `Bearer ${key}` });
/** Text that only the prompts hold, to find them in the log. */
const SECRET_PROMPT = "my-private-prompt-zebra";

interface CapturedLog {
  raw: string[];
  lines: Array<Record<string, unknown>>;
  finished(): Array<Record<string, unknown>>;
}

function capturingLogger(): { logger: pino.Logger; log: CapturedLog } {
  const raw: string[] = [];
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split("\n").filter(Boolean)) {
        raw.push(line);
        lines.push(JSON.parse(line) as Record<string, unknown>);
      }
      done();
    },
  });
  const log = { raw, lines, finished: () => lines.filter((l) => l.msg === "generation finished") };
  return { logger: pino({ level: "info" }, sink), log };
}

async function startLogged(logPrompts: boolean): Promise<{ server: LiveServer; log: CapturedLog }> {
  const { logger, log } = capturingLogger();
  const server = await startLiveServer(tinyChat, { maxBatchSize: 4 }, { apiKeys: [KEY], logPrompts }, logger);
  return { server, log };
}

describe("one log line per generation request, without prompts by default", () => {
  let server: LiveServer;
  let log: CapturedLog;
  beforeAll(async () => {
    ({ server, log } = await startLogged(false));
  });
  afterAll(() => server.close());

  const chat = (extra: Record<string, unknown> = {}): Record<string, unknown> => ({
    model: server.model,
    messages: [{ role: "user", content: `Say ${SECRET_PROMPT}` }],
    temperature: 0,
    logit_bias: eosBan(tinyChat),
    ...extra,
  });

  it("writes the documented fields for a stream, a JSON answer, a cancel, a 400 and a 401", async () => {
    const url = `${server.url}/v1/chat/completions`;
    // A stream with a client id and a user.
    const streamed = await postJson(url, chat({ max_tokens: 4, stream: true, user: "user-1234" }), { ...auth(), "x-request-id": "log-stream-1" });
    // The response echoes the client's id; the completion id is in the chunks.
    expect(streamed.headers.get("x-request-id")).toBe("log-stream-1");
    const streamedId = (await readSse(streamed))[0].json!.id as string;
    // A JSON answer from the completions endpoint.
    const answered = await postJson(`${server.url}/v1/completions`, { model: server.model, prompt: `${SECRET_PROMPT} once`, max_tokens: 3, temperature: 0, logit_bias: eosBan(tinyChat) }, auth());
    const answeredBody = (await answered.json()) as { id: string; usage: { prompt_tokens: number } };
    // A stream cancelled through the stop endpoint after its first content chunk.
    const cancelled = await postJson(url, chat({ max_tokens: 400, stream: true }), auth());
    const cancelledId = cancelled.headers.get("x-request-id")!;
    let sent = false;
    await readSse(cancelled, async (e) => {
      const content = (e.json?.choices as Array<{ delta?: { content?: string } }> | undefined)?.[0]?.delta?.content;
      if (!sent && content) {
        sent = true;
        expect((await postJson(`${url}/${cancelledId}/cancel`, {}, auth())).status).toBe(200);
      }
    });
    // A 400 from validation, and a 401 with a wrong key.
    const invalid = await postJson(url, chat({ temperature: 7 }), auth());
    expect(invalid.status).toBe(400);
    const invalidId = invalid.headers.get("x-request-id")!;
    expect((await postJson(url, chat(), auth(WRONG))).status).toBe(401);

    await until(() => log.finished().length >= 5);
    const lines = log.finished();
    expect(lines).toHaveLength(5);
    const [first, second, third, fourth, fifth] = lines;
    const common = { level: 30, reqId: expect.any(String), durationMs: expect.any(Number) };

    expect(first).toMatchObject({
      ...common,
      reqId: "log-stream-1",
      completionId: streamedId,
      clientRequestId: "log-stream-1",
      model: "tiny-chat",
      endpoint: "/v1/chat/completions",
      stream: true,
      n: 1,
      status: 200,
      finishReason: "length",
      completionTokens: 4,
      promptTokens: expect.any(Number),
      ttftMs: expect.any(Number),
      user: "user-1234",
    });
    expect(second).toMatchObject({
      ...common,
      completionId: answeredBody.id,
      clientRequestId: null,
      endpoint: "/v1/completions",
      stream: false,
      status: 200,
      finishReason: "length",
      promptTokens: answeredBody.usage.prompt_tokens,
      completionTokens: 3,
      ttftMs: expect.any(Number),
    });
    expect(second).not.toHaveProperty("user");
    expect(third).toMatchObject({ ...common, completionId: cancelledId, stream: true, status: 200, finishReason: "cancelled", ttftMs: expect.any(Number) });
    expect(third.completionTokens as number).toBeLessThan(400);
    // Refused before the engine: no tokens, no time to first token.
    expect(fourth).toMatchObject({
      ...common,
      completionId: invalidId,
      model: null,
      status: 400,
      finishReason: "none",
      promptTokens: null,
      completionTokens: null,
      ttftMs: null,
    });
    // Refused before its handler ran: no completion id, no body read.
    expect(fifth).toMatchObject({ ...common, completionId: null, endpoint: "/v1/chat/completions", stream: null, status: 401, finishReason: "none" });
    for (const line of lines) {
      expect(line.durationMs as number).toBeGreaterThanOrEqual(0);
      expect(line).not.toHaveProperty("messages");
      expect(line).not.toHaveProperty("prompt");
    }
    // Nowhere in the whole log: the prompts, the keys.
    const all = log.raw.join("\n");
    expect(all).not.toContain(SECRET_PROMPT);
    expect(all).not.toContain(KEY);
    expect(all).not.toContain(WRONG);
  });
});

describe("--log-prompts", () => {
  let server: LiveServer;
  let log: CapturedLog;
  beforeAll(async () => {
    ({ server, log } = await startLogged(true));
  });
  afterAll(() => server.close());

  it("adds the messages or the prompt to the line, and still never a key", async () => {
    const messages = [
      { role: "system", content: "Be brief." },
      { role: "user", content: [{ type: "text", text: SECRET_PROMPT }, { type: "text", text: " twice" }] },
    ];
    expect((await postJson(`${server.url}/v1/chat/completions`, { model: server.model, messages, max_tokens: 2 }, auth())).status).toBe(200);
    expect((await postJson(`${server.url}/v1/completions`, { model: server.model, prompt: SECRET_PROMPT, max_tokens: 2 }, auth())).status).toBe(200);
    expect((await postJson(`${server.url}/v1/completions`, { model: server.model, prompt: [5, 6, 7], max_tokens: 2 }, auth())).status).toBe(200);
    await until(() => log.finished().length >= 3);
    const lines = log.finished();
    expect(lines).toHaveLength(3);
    // The messages as validated: text parts joined.
    expect(lines[0].messages).toEqual([
      { role: "system", content: "Be brief." },
      { role: "user", content: `${SECRET_PROMPT} twice` },
    ]);
    expect(lines[1].prompt).toBe(SECRET_PROMPT);
    expect(lines[2].prompt).toEqual([5, 6, 7]);
    expect(log.raw.join("\n")).not.toContain(KEY);
  });
});
