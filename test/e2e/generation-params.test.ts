/**
 * OpenAI generation parameters over HTTP on the shipped tiny-chat model,
 * checked against the model itself: seeds under concurrency, n, logprobs
 * against a direct log-softmax of the model's logits, logit_bias, stop
 * strings that span tokens, usage counts.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadModelFolder } from "../../src/model/model-folder.ts";
import { loadTokenizer, type LoadedTokenizer } from "../../src/model/tokenizer.ts";
import { ModelRunner } from "../../src/worker/model-runner.ts";
import { argmax } from "../../src/generation/sampler.ts";
import { eosBan, tinyChat } from "../support/fixtures.ts";
import { postJson, startLiveServer, type LiveServer } from "../support/live-server.ts";

const MODEL = tinyChat;

interface Completion {
  choices: Array<{
    index: number;
    text: string;
    finish_reason: string;
    logprobs: { tokens: string[]; token_logprobs: number[]; top_logprobs: Array<Record<string, number>> } | null;
  }>;
  usage: { prompt_tokens: number; completion_tokens: number; total_tokens: number };
}

/** tiny-chat's ChatML rendering of one user message, written out here rather than taken from the template. */
const chatML = (content: string): string => `<|im_start|>user\n${content}<|im_end|>\n<|im_start|>assistant\n`;

describe("generation parameters over HTTP", () => {
  let server: LiveServer;
  let tokenizer: LoadedTokenizer;
  const ids = (text: string): number[] => tokenizer.full.encode(text, { add_special_tokens: false }).ids;
  const decode = (tokenIds: number[]): string => tokenizer.full.decode(tokenIds, { skip_special_tokens: false, clean_up_tokenization_spaces: false });
  // Greedy "579", after which (with EOS banned) sampled rows wander: a prompt where seeds matter.
  let ADD: number[];
  // Greedy "3, 4, 5, 6, 7, 8": six tokens before any EOS.
  let COUNT: number[];
  // Greedy "HELLO WORLD", one character per token.
  let UPPER: number[];
  beforeAll(async () => {
    server = await startLiveServer(MODEL, { maxBatchSize: 8 });
    tokenizer = loadTokenizer(loadModelFolder(MODEL));
    ADD = ids(chatML("What is 123 + 456?"));
    COUNT = ids(chatML("Count from 3 to 8."));
    UPPER = ids(chatML("Convert to uppercase: hello world"));
  });
  afterAll(() => server.close());

  const complete = async (body: Record<string, unknown>): Promise<Completion> => {
    const res = await postJson(`${server.url}/v1/completions`, { model: server.model, prompt: ADD, ...body });
    expect(res.status).toBe(200);
    return (await res.json()) as Completion;
  };

  /** A fresh session on the same file, for logits straight from the model. */
  const withRunner = async <T>(use: (runner: ModelRunner) => Promise<T>): Promise<T> => {
    const runner = await ModelRunner.create(loadModelFolder(MODEL), { device: "cpu", threads: 1 });
    try {
      return await use(runner);
    } finally {
      await runner.release();
    }
  };

  it("the same seed gives the same text alone and among 8 concurrent requests", async () => {
    const body = { max_tokens: 16, temperature: 1, top_k: 50, seed: 99, logit_bias: eosBan(MODEL) };
    const alone = (await complete(body)).choices[0].text;
    const together = await Promise.all(Array.from({ length: 8 }, () => complete(body)));
    for (const c of together) expect(c.choices[0].text).toBe(alone);
    const other = (await complete({ ...body, seed: 100 })).choices[0].text;
    expect(other).not.toBe(alone);
  });

  it("n=3 gives three indexed choices with their own random streams", async () => {
    const out = await complete({ max_tokens: 10, temperature: 1, seed: 3, n: 3, logit_bias: eosBan(MODEL) });
    expect(out.choices.map((c) => c.index)).toEqual([0, 1, 2]);
    expect(new Set(out.choices.map((c) => c.text)).size).toBeGreaterThan(1);
    expect(out.usage.completion_tokens).toBe(30);
    expect(out.usage.prompt_tokens).toBe(ADD.length);
  });

  it("logprobs equal a direct log-softmax of the model's logits; top_logprobs are the model's top, sorted", async () => {
    const out = await complete({ prompt: COUNT, max_tokens: 6, temperature: 0, logprobs: 5 });
    expect(out.choices[0].finish_reason).toBe("length");
    const lp = out.choices[0].logprobs!;
    expect(lp.tokens).toHaveLength(6);
    const chosen: number[] = [];
    await withRunner(async (runner) => {
      const kv = runner.emptyKv();
      let logits = await runner.forward(kv, COUNT);
      for (let step = 0; step < 6; step++) {
        const id = argmax(logits);
        chosen.push(id);
        const max = Math.max(...logits);
        const lse = max + Math.log(logits.reduce((s, v) => s + Math.exp(v - max), 0));
        expect(Math.abs(lp.token_logprobs[step] - (logits[id] - lse))).toBeLessThan(1e-4);
        expect(lp.tokens[step]).toBe(decode([id]));
        // The five alternatives are the model's five most likely tokens with their log-probabilities.
        // (Compared as a map: a JSON object with keys like "3" has no order a client can read back.)
        const top5 = Array.from(logits, (v, i) => [i, v - lse] as const)
          .sort((a, b) => b[1] - a[1])
          .slice(0, 5);
        const tops = lp.top_logprobs[step];
        expect(Object.keys(tops).sort()).toEqual(top5.map(([i]) => decode([i])).sort());
        for (const [i, value] of top5) expect(Math.abs(tops[decode([i])] - value)).toBeLessThan(1e-4);
        expect(Math.max(...Object.values(tops))).toBeCloseTo(lp.token_logprobs[step], 6);
        logits = await runner.forward(kv, [id]);
      }
    });
    expect(lp.tokens.join("")).toBe("3, 4, ");
    // The chat form carries the alternatives as an array: there the order is visible, and sorted.
    const res = await postJson(`${server.url}/v1/chat/completions`, {
      model: server.model,
      messages: [{ role: "user", content: "Count from 3 to 8." }],
      max_tokens: 6,
      temperature: 0,
      logprobs: true,
      top_logprobs: 5,
    });
    const chat = (await res.json()) as {
      choices: Array<{ logprobs: { content: Array<{ token: string; logprob: number; top_logprobs: Array<{ token: string; logprob: number }> }> } }>;
    };
    const content = chat.choices[0].logprobs.content;
    expect(content.map((c) => c.token)).toEqual(chosen.map((id) => decode([id])));
    content.forEach((c, step) => {
      const values = c.top_logprobs.map((t) => t.logprob);
      expect(values).toHaveLength(5);
      expect([...values].sort((a, b) => b - a)).toEqual(values);
      expect(c.top_logprobs[0].token).toBe(c.token);
      expect(c.logprob).toBeCloseTo(lp.token_logprobs[step], 5);
    });
  });

  it("logit_bias +100 forces a token and -100 bans the greedy one", async () => {
    const [forcedId] = ids("Z");
    const forced = await complete({ max_tokens: 5, temperature: 1, seed: 1, logit_bias: { [String(forcedId)]: 100 }, logprobs: 0 });
    expect(forced.choices[0].logprobs!.tokens).toEqual(Array(5).fill("Z"));
    // The model's own first choice and runner-up for COUNT, straight from its logits.
    const [first, second] = await withRunner(async (runner) => {
      const logits = Array.from(await runner.forward(runner.emptyKv(), COUNT));
      const order = logits.map((v, i) => [v, i] as const).sort((a, b) => b[0] - a[0]);
      return [order[0][1], order[1][1]];
    });
    const greedy = await complete({ prompt: COUNT, max_tokens: 1, temperature: 0 });
    const banned = await complete({ prompt: COUNT, max_tokens: 1, temperature: 0, logit_bias: { [String(first)]: -100 } });
    expect(greedy.choices[0].text).toBe(decode([first!]));
    expect(banned.choices[0].text).toBe(decode([second!]));
    expect(banned.choices[0].text).not.toBe(greedy.choices[0].text);
  });

  it("a stop string spanning two tokens never leaks and the text before it is complete", async () => {
    const full = await complete({ prompt: UPPER, max_tokens: 12, temperature: 0, logprobs: 0 });
    const tokens = full.choices[0].logprobs!.tokens;
    const text = full.choices[0].text;
    expect(text).toBe("HELLO WORLD");
    // Last two characters before the end of token 3 + first two after it: a stop that crosses a token boundary.
    const boundary = tokens.slice(0, 4).join("").length;
    const stop = text.slice(boundary - 2, boundary + 2);
    expect(stop).toHaveLength(4);
    for (const stream of [false, true]) {
      const res = await postJson(`${server.url}/v1/completions`, { model: server.model, prompt: UPPER, max_tokens: 12, temperature: 0, stop: [stop], stream });
      const body = await res.text();
      const got = stream
        ? body
            .split("\n\n")
            .filter((f) => f.startsWith("data: {"))
            .map((f) => (JSON.parse(f.slice(6)) as Completion).choices[0]?.text ?? "")
            .join("")
        : (JSON.parse(body) as Completion).choices[0].text;
      expect(got).toBe(text.slice(0, text.indexOf(stop)));
      expect(body).not.toContain(stop.slice(0, 3));
    }
  });

  it("usage equals the tokenizer's counts, for chat and for text prompts", async () => {
    const prompt = "in the end, he was on it";
    const text = await complete({ prompt, max_tokens: 3, temperature: 0, logit_bias: eosBan(MODEL) });
    expect(text.usage).toEqual({ prompt_tokens: tokenizer.full.encode(prompt).ids.length, completion_tokens: 3, total_tokens: text.usage.prompt_tokens + 3 });
    const res = await postJson(`${server.url}/v1/chat/completions`, { model: server.model, messages: [{ role: "user", content: "he was on it" }], max_tokens: 2 });
    const chat = (await res.json()) as Completion;
    expect(chat.usage.prompt_tokens).toBe(ids(chatML("he was on it")).length);
  });
});
