/**
 * The official openai client against the real server: streams parse,
 * aborting the client's stream cancels the generation server-side, and the
 * richer shapes (n, logprobs, usage, cancelled) parse without error.
 */
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fixturePath, haveFixtures } from "../support/fixtures.ts";
import { introspect } from "../support/engine.ts";
import { startLiveServer, whenReleased, type LiveServer } from "../support/live-server.ts";

describe.skipIf(!haveFixtures)("official openai client", () => {
  let server: LiveServer;
  let client: OpenAI;
  beforeAll(async () => {
    server = await startLiveServer(fixturePath("tiny-random-LlamaForCausalLM-fp32-reconstructed"));
    client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: "unused", maxRetries: 0 });
  });
  afterAll(() => server.close());

  it("streams a chat answer and reports usage", async () => {
    const stream = await client.chat.completions.create({
      model: server.model,
      messages: [{ role: "user", content: "he was on it" }],
      max_tokens: 8,
      temperature: 0,
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = "";
    let finish: string | null = null;
    let usage: OpenAI.CompletionUsage | undefined;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? "";
      finish = chunk.choices[0]?.finish_reason ?? finish;
      usage = chunk.usage ?? usage;
    }
    expect(text.length).toBeGreaterThan(0);
    expect(finish).toBe("length");
    expect(usage?.completion_tokens).toBe(8);
  });

  it("aborting the client's stream cancels the generation on the server", async () => {
    const controller = new AbortController();
    const stream = await client.chat.completions.create(
      { model: server.model, messages: [{ role: "user", content: "he was on it" }], max_tokens: 500, temperature: 0, stream: true },
      { signal: controller.signal },
    );
    let released: Promise<void> | null = null;
    let seen = 0;
    // The SDK may end the iteration quietly or with an abort error; either way the server must notice.
    try {
      for await (const chunk of stream) {
        released ??= whenReleased(server.engine, chunk.id);
        if (++seen === 3) controller.abort();
      }
    } catch (error) {
      expect((error as Error).name).toMatch(/Abort/);
    }
    expect(seen).toBeLessThan(10);
    await released;
    expect(server.engine.health().running).toBe(0);
    expect(introspect(server.engine).activeRequestIds()).toEqual([]);
  });

  it("parses n, logprobs and usage in non-streamed and streamed answers", async () => {
    const answer = await client.chat.completions.create({
      model: server.model,
      messages: [{ role: "user", content: "he was on it" }],
      max_tokens: 4,
      n: 2,
      seed: 5,
      logprobs: true,
      top_logprobs: 3,
    });
    expect(answer.choices.map((c) => c.index)).toEqual([0, 1]);
    for (const choice of answer.choices) {
      expect(choice.logprobs?.content?.length).toBe(4);
      for (const lp of choice.logprobs!.content!) {
        expect(lp.top_logprobs).toHaveLength(3);
        expect(lp.logprob).toBeLessThanOrEqual(0);
      }
    }
    expect(answer.usage).toMatchObject({ completion_tokens: 8, total_tokens: answer.usage!.prompt_tokens + 8 });

    const completion = await client.completions.create({ model: server.model, prompt: "he was on", max_tokens: 3, logprobs: 2, temperature: 0 });
    expect(completion.choices[0]!.logprobs!.tokens).toHaveLength(3);
    expect(completion.choices[0]!.finish_reason).toBe("length");
  });

  it("parses cancelled answers, streamed and not", async () => {
    const cancelWhenRunning = async (handle: string): Promise<void> => {
      while (server.engine.cancel(handle) === null) await new Promise((r) => setImmediate(r));
    };
    const plain = client.chat.completions.create(
      { model: server.model, messages: [{ role: "user", content: "he was on it" }], max_tokens: 1500, temperature: 0 },
      { headers: { "x-request-id": "openai-cancel-plain" } },
    );
    await cancelWhenRunning("openai-cancel-plain");
    const answer = await plain;
    expect(answer.choices[0]!.finish_reason as string).toBe("cancelled");
    expect(answer.usage!.completion_tokens).toBeLessThan(1500);

    const stream = await client.chat.completions.create(
      { model: server.model, messages: [{ role: "user", content: "he was on it" }], max_tokens: 1500, temperature: 0, stream: true },
      { headers: { "x-request-id": "openai-cancel-stream" } },
    );
    let finish: string | null = null;
    let chunks = 0;
    for await (const chunk of stream) {
      if (++chunks === 2) server.engine.cancel("openai-cancel-stream");
      finish = chunk.choices[0]?.finish_reason ?? finish;
    }
    expect(finish).toBe("cancelled");
  });
});
