/**
 * OpenAI generation parameters over HTTP, checked against the model itself:
 * seeds under concurrency, n, logprobs against a direct log-softmax of the
 * model's logits, logit_bias, stop strings that span tokens, usage counts.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadModelFolder } from "../../src/model/model-folder.ts";
import { loadTokenizer, type LoadedTokenizer } from "../../src/model/tokenizer.ts";
import { ModelRunner } from "../../src/worker/model-runner.ts";
import { argmax } from "../../src/generation/sampler.ts";
import { fixturePath, haveFixtures } from "../support/fixtures.ts";
import { postJson, startLiveServer, type LiveServer } from "../support/live-server.ts";

const MODEL = fixturePath("tiny-random-LlamaForCausalLM-fp32-reconstructed");
const PROMPT_IDS = [1, 297, 278, 1095, 29892, 540, 471, 373, 372];

interface Completion {
  choices: Array<{
    index: number;
    text: string;
    finish_reason: string;
    logprobs: { tokens: string[]; token_logprobs: number[]; top_logprobs: Array<Record<string, number>> } | null;
  }>;
  usage: { prompt_tokens: number; completion_tokens: number; total_tokens: number };
}

describe.skipIf(!haveFixtures)("generation parameters over HTTP", () => {
  let server: LiveServer;
  let tokenizer: LoadedTokenizer;
  beforeAll(async () => {
    server = await startLiveServer(MODEL, { maxBatchSize: 8 });
    tokenizer = loadTokenizer(loadModelFolder(MODEL));
  });
  afterAll(() => server.close());

  const complete = async (body: Record<string, unknown>): Promise<Completion> => {
    const res = await postJson(`${server.url}/v1/completions`, { model: server.model, prompt: PROMPT_IDS, ...body });
    expect(res.status).toBe(200);
    return (await res.json()) as Completion;
  };

  it("the same seed gives the same text alone and among 8 concurrent requests", async () => {
    const body = { max_tokens: 16, temperature: 1, top_k: 50, seed: 99 };
    const alone = (await complete(body)).choices[0]!.text;
    const together = await Promise.all(Array.from({ length: 8 }, () => complete(body)));
    for (const c of together) expect(c.choices[0]!.text).toBe(alone);
    const other = (await complete({ ...body, seed: 100 })).choices[0]!.text;
    expect(other).not.toBe(alone);
  });

  it("n=3 gives three indexed choices with their own random streams", async () => {
    const out = await complete({ max_tokens: 10, temperature: 1, seed: 3, n: 3 });
    expect(out.choices.map((c) => c.index)).toEqual([0, 1, 2]);
    expect(new Set(out.choices.map((c) => c.text)).size).toBeGreaterThan(1);
    expect(out.usage.completion_tokens).toBe(30);
    expect(out.usage.prompt_tokens).toBe(PROMPT_IDS.length);
  });

  it("logprobs equal a direct log-softmax of the model's logits; top_logprobs are sorted", async () => {
    const out = await complete({ max_tokens: 6, temperature: 0, logprobs: 5 });
    const lp = out.choices[0]!.logprobs!;
    const runner = await ModelRunner.create(loadModelFolder(MODEL), { device: "cpu", threads: 1 });
    const kv = runner.emptyKv();
    let logits = await runner.forward(kv, PROMPT_IDS);
    for (let step = 0; step < 6; step++) {
      const id = argmax(logits);
      const max = Math.max(...logits);
      const lse = max + Math.log(logits.reduce((s, v) => s + Math.exp(v - max), 0));
      expect(Math.abs(lp.token_logprobs[step]! - (logits[id]! - lse))).toBeLessThan(1e-4);
      expect(lp.tokens[step]).toBe(tokenizer.full.decode([id], { skip_special_tokens: false, clean_up_tokenization_spaces: false }));
      const tops = Object.values(lp.top_logprobs[step]!);
      expect(tops).toHaveLength(5);
      expect([...tops].sort((a, b) => b - a)).toEqual(tops);
      expect(tops[0]).toBeCloseTo(lp.token_logprobs[step]!, 6);
      logits = await runner.forward(kv, [id]);
    }
    await runner.release();
  });

  it("logit_bias +100 forces a token and -100 bans the greedy one", async () => {
    const forced = await complete({ max_tokens: 5, temperature: 1, seed: 1, logit_bias: { "1095": 100 }, logprobs: 0 });
    const endText = tokenizer.full.decode([1095], { skip_special_tokens: false, clean_up_tokenization_spaces: false });
    expect(forced.choices[0]!.logprobs!.tokens).toEqual(Array(5).fill(endText));
    const greedy = await complete({ max_tokens: 1, temperature: 0 });
    const banned = await complete({ max_tokens: 1, temperature: 0, logit_bias: { "10013": -100 } });
    expect(greedy.choices[0]!.text).toBe(tokenizer.full.decode([1, 297, 278, 1095, 29892, 540, 471, 373, 372, 10013]).slice(tokenizer.full.decode(PROMPT_IDS).length));
    expect(banned.choices[0]!.text).not.toBe(greedy.choices[0]!.text);
  });

  it("a stop string spanning two tokens never leaks and the text before it is complete", async () => {
    const full = await complete({ max_tokens: 12, temperature: 0, logprobs: 0 });
    const tokens = full.choices[0]!.logprobs!.tokens;
    const text = full.choices[0]!.text;
    // Last two characters of token 3 + first two of token 4: a stop no single token contains.
    const boundary = tokens.slice(0, 4).join("").length;
    const stop = text.slice(boundary - 2, boundary + 2);
    expect(stop).toHaveLength(4);
    for (const stream of [false, true]) {
      const res = await postJson(`${server.url}/v1/completions`, { model: server.model, prompt: PROMPT_IDS, max_tokens: 12, temperature: 0, stop: [stop], stream });
      const body = await res.text();
      const got = stream
        ? body
            .split("\n\n")
            .filter((f) => f.startsWith("data: {"))
            .map((f) => (JSON.parse(f.slice(6)) as Completion).choices[0]?.text ?? "")
            .join("")
        : (JSON.parse(body) as Completion).choices[0]!.text;
      expect(got).toBe(text.slice(0, text.indexOf(stop)));
      expect(body).not.toContain(stop.slice(0, 3));
    }
  });

  it("usage equals the tokenizer's counts, for chat and for text prompts", async () => {
    const text = await complete({ prompt: "in the end, he was on it", max_tokens: 3, temperature: 0 });
    expect(text.usage).toEqual({ prompt_tokens: tokenizer.full.encode("in the end, he was on it").ids.length, completion_tokens: 3, total_tokens: text.usage.prompt_tokens + 3 });
    const res = await postJson(`${server.url}/v1/chat/completions`, { model: server.model, messages: [{ role: "user", content: "he was on it" }], max_tokens: 2 });
    const chat = (await res.json()) as Completion;
    const rendered = "<s>[INST] he was on it [/INST]";
    expect(chat.usage.prompt_tokens).toBe(tokenizer.full.encode(rendered, { add_special_tokens: false }).ids.length);
  });
});
