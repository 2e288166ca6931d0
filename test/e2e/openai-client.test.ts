/**
 * The official openai client against the real server on the shipped
 * tiny-chat model: streams parse, aborting the client's stream cancels the
 * generation server-side, and the richer shapes (n, logprobs, usage,
 * cancelled) parse without error. Rows that must keep running are greedy
 * with EOS banned (logit_bias), so they end only at max_tokens or a cancel.
 */
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eosBan, tinyChat } from "../support/fixtures.ts";
import { introspect } from "../support/engine.ts";
import { startLiveServer, whenReleased, type LiveServer } from "../support/live-server.ts";

const messages: OpenAI.ChatCompletionMessageParam[] = [{ role: "user", content: "What is 123 + 456?" }];
/** Prompt (33 tokens) + 450 fits tiny-chat's 512-token context. */
const LONG = 450;

describe("official openai client", () => {
  let server: LiveServer;
  let client: OpenAI;
  const noEos = eosBan(tinyChat);
  beforeAll(async () => {
    server = await startLiveServer(tinyChat);
    client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: "unused", maxRetries: 0 });
  });
  afterAll(() => server.close());

  it("streams a chat answer and reports usage", async () => {
    const stream = await client.chat.completions.create({
      model: server.model,
      messages,
      max_tokens: 8,
      temperature: 0,
      logit_bias: noEos,
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
    // The model's answer, then (its end-of-turn banned) more tokens up to max_tokens.
    expect(text.startsWith("579")).toBe(true);
    expect(text.length).toBeGreaterThan(3);
    expect(finish).toBe("length");
    expect(usage?.completion_tokens).toBe(8);
  });

  it("aborting the client's stream cancels the generation on the server", async () => {
    const controller = new AbortController();
    const stream = await client.chat.completions.create(
      { model: server.model, messages, max_tokens: LONG, temperature: 0, logit_bias: noEos, stream: true },
      { signal: controller.signal },
    );
    let id = "";
    let released: Promise<void> | null = null;
    let seen = 0;
    // The SDK may end the iteration quietly or with an abort error; either way the server must notice.
    // How many chunks still arrive after the abort depends on what the socket had buffered: not checked.
    try {
      for await (const chunk of stream) {
        id ||= chunk.id;
        released ??= whenReleased(server.engine, chunk.id);
        if (++seen === 3) controller.abort();
      }
    } catch (error) {
      expect((error as Error).name).toMatch(/Abort/);
    }
    expect(seen).toBeGreaterThanOrEqual(3);
    await released;
    expect(server.engine.health().running).toBe(0);
    expect(introspect(server.engine).activeRequestIds()).toEqual([]);
    // EOS is banned, so only the abort can have ended it this far from max_tokens.
    const finished = server.engine.cancel(id);
    expect(finished?.status).toBe("already_finished");
    expect(finished!.usage.completionTokens).toBeLessThan(LONG / 2);
  });

  it("parses n, logprobs and usage in non-streamed and streamed answers", async () => {
    const answer = await client.chat.completions.create({
      model: server.model,
      messages,
      max_tokens: 4,
      n: 2,
      seed: 5,
      logprobs: true,
      top_logprobs: 3,
      logit_bias: noEos,
    });
    expect(answer.choices.map((c) => c.index)).toEqual([0, 1]);
    for (const choice of answer.choices) {
      expect(choice.finish_reason).toBe("length");
      expect(choice.logprobs?.content?.length).toBe(4);
      for (const lp of choice.logprobs!.content!) {
        expect(lp.top_logprobs).toHaveLength(3);
        expect(lp.logprob).toBeLessThanOrEqual(0);
      }
    }
    expect(answer.usage).toMatchObject({ completion_tokens: 8, total_tokens: answer.usage!.prompt_tokens + 8 });

    const completion = await client.completions.create({ model: server.model, prompt: "Count from 3 to 8.", max_tokens: 3, logprobs: 2, temperature: 0, logit_bias: noEos });
    expect(completion.choices[0].logprobs!.tokens).toHaveLength(3);
    expect(Object.keys(completion.choices[0].logprobs!.top_logprobs![0])).toHaveLength(2);
    expect(completion.choices[0].finish_reason).toBe("length");
  });

  it("parses cancelled answers, streamed and not", async () => {
    const cancelWhenRunning = async (handle: string): Promise<void> => {
      while (server.engine.cancel(handle) === null) await new Promise((r) => setImmediate(r));
    };
    const plain = client.chat.completions.create(
      { model: server.model, messages, max_tokens: LONG, temperature: 0, logit_bias: noEos },
      { headers: { "x-request-id": "openai-cancel-plain" } },
    );
    await cancelWhenRunning("openai-cancel-plain");
    const answer = await plain;
    expect(answer.choices[0].finish_reason as string).toBe("cancelled");
    expect(answer.usage!.completion_tokens).toBeLessThan(LONG);

    const stream = await client.chat.completions.create(
      { model: server.model, messages, max_tokens: LONG, temperature: 0, logit_bias: noEos, stream: true },
      { headers: { "x-request-id": "openai-cancel-stream" } },
    );
    let finish: string | null = null;
    let chunks = 0;
    for await (const chunk of stream) {
      if (++chunks === 2) expect(server.engine.cancel("openai-cancel-stream")?.status).toBe("cancelled");
      finish = chunk.choices[0]?.finish_reason ?? finish;
    }
    expect(finish).toBe("cancelled");
  });
});
