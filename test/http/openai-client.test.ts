/** The official `openai` SDK parses our streamed and non-streamed answers. */
import type { AddressInfo } from "node:net";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { requestIdInUse } from "../../src/errors.ts";
import { WIRE_USAGE } from "./fake-engine.ts";
import { makeApp } from "./helpers.ts";

const { app, engine } = makeApp({ apiKeys: ["test-key"] });
let client: OpenAI;
beforeAll(async () => {
  await app.listen({ host: "127.0.0.1", port: 0 });
  const { port } = app.server.address() as AddressInfo;
  client = new OpenAI({ apiKey: "test-key", baseURL: `http://127.0.0.1:${port}/v1`, maxRetries: 0 });
});
afterAll(() => app.close());

describe("openai SDK", () => {
  it("chat, non-streamed", async () => {
    const completion = await client.chat.completions.create({ model: "tiny-chat", messages: [{ role: "user", content: "Hi" }] });
    expect(completion.choices[0].message.content).toBe("Hello world");
    expect(completion.choices[0].finish_reason).toBe("stop");
    expect(completion.usage).toEqual(WIRE_USAGE);
    expect(completion.id).toMatch(/^chatcmpl-/);
  });

  it("chat, streamed with usage", async () => {
    const stream = await client.chat.completions.create({
      model: "tiny-chat",
      messages: [{ role: "user", content: "Hi" }],
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = "";
    const ids = new Set<string>();
    let usage: unknown = null;
    let finish: string | null = null;
    for await (const chunk of stream) {
      ids.add(chunk.id);
      text += chunk.choices[0]?.delta.content ?? "";
      finish = chunk.choices[0]?.finish_reason ?? finish;
      if (chunk.usage) usage = chunk.usage;
    }
    expect(text).toBe("Hello world");
    expect(finish).toBe("stop");
    expect(usage).toEqual(WIRE_USAGE);
    expect(ids.size).toBe(1);
  });

  it("completions, streamed and not", async () => {
    const completion = await client.completions.create({ model: "tiny-chat", prompt: "Once" });
    expect(completion.choices[0].text).toBe("Hello world");
    const stream = await client.completions.create({ model: "tiny-chat", prompt: [1, 2, 3], stream: true });
    let text = "";
    for await (const chunk of stream) text += chunk.choices[0]?.text ?? "";
    expect(text).toBe("Hello world");
    expect(engine.starts.at(-1)?.request.prompt).toEqual({ kind: "tokens", ids: [1, 2, 3] });
  });

  it("models list", async () => {
    const models = [];
    for await (const model of client.models.list()) models.push(model.id);
    expect(models).toEqual(["tiny-chat"]);
  });

  it("errors surface as typed SDK errors", async () => {
    await expect(
      client.chat.completions.create({ model: "tiny-chat", messages: [{ role: "user", content: "Hi" }], temperature: 9 }),
    ).rejects.toMatchObject({ status: 400, param: "temperature", type: "invalid_request_error" });
    const wrongKey = new OpenAI({ apiKey: "nope", baseURL: client.baseURL, maxRetries: 0 });
    await expect(wrongKey.models.list()).rejects.toBeInstanceOf(OpenAI.AuthenticationError);
  });

  it("a duplicate X-Request-Id is not retried by the SDK (retries on): one attempt, a BadRequestError with code request_id_in_use", async () => {
    let attempts = 0;
    const counting: typeof fetch = (input, init) => {
      attempts++;
      return fetch(input, init);
    };
    const retrying = new OpenAI({ apiKey: "test-key", baseURL: client.baseURL, maxRetries: 2, fetch: counting });
    engine.startError = requestIdInUse("job-7");
    const before = engine.starts.length;
    await expect(
      retrying.chat.completions.create({ model: "tiny-chat", messages: [{ role: "user", content: "Hi" }] }, { headers: { "X-Request-Id": "job-7" } }),
    ).rejects.toMatchObject({ status: 400, code: "request_id_in_use", param: "X-Request-Id" });
    engine.startError = null;
    expect(attempts).toBe(1);
    expect(engine.starts.length).toBe(before);
  });
});
