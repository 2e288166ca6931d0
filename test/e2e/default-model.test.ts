/**
 * The shipped default model (models/tiny-chat), served the way `npm start`
 * serves it: exact greedy answers over HTTP, a Chinese answer streamed chunk
 * by chunk without U+FFFD, and an independent ONNX Runtime loop giving the
 * same greedy ids as the engine.
 */
import { join } from "node:path";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config.ts";
import { compileChatTemplate } from "../../src/model/chat-template.ts";
import { loadModelFolder } from "../../src/model/model-folder.ts";
import { loadTokenizer } from "../../src/model/tokenizer.ts";
import { defaultModelExamples, defaultModelPath, haveDefaultModel } from "../support/fixtures.ts";
import { postJson, readSse, startLiveServer, type LiveServer } from "../support/live-server.ts";
import { referenceGreedy } from "../support/reference-loop.ts";

const examples = defaultModelExamples;

describe.skipIf(!haveDefaultModel)("the default model", () => {
  let server: LiveServer;
  let client: OpenAI;
  beforeAll(async () => {
    const parsed = parseConfig([], {});
    if (parsed.kind !== "config") throw new Error("unexpected help");
    expect(parsed.config.modelPath).toBe(defaultModelPath);
    server = await startLiveServer(parsed.config.modelPath, { maxBatchSize: 16 });
    client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: "unused", maxRetries: 0 });
  });
  afterAll(() => server.close());

  it("is served under its folder name", () => {
    expect(server.model).toBe("tiny-chat");
  });

  it("answers 'What is 123 + 456?' with 579 and stops at its end-of-turn token", async () => {
    const answer = await client.chat.completions.create({
      model: "tiny-chat",
      messages: [{ role: "user", content: "What is 123 + 456?" }],
      temperature: 0,
    });
    expect(answer.choices[0].message.content).toBe("579");
    expect(answer.choices[0].finish_reason).toBe("stop");
  });

  it("gives the exact greedy answer of every checked example, concurrently", async () => {
    const list = examples();
    expect(list.length).toBeGreaterThan(5);
    const answers = await Promise.all(
      list.map((e) => client.chat.completions.create({ model: "tiny-chat", messages: e.messages, temperature: 0, max_tokens: 64 })),
    );
    answers.forEach((a, i) => expect(a.choices[0].message.content, list[i].messages[0].content).toBe(list[i].answer));
  });

  it("streams a Chinese answer chunk by chunk with no U+FFFD, even where tokens split characters", async () => {
    const zh = examples().find((e) => /[\u4e00-\u9fff]{2,}/.test(e.answer));
    expect(zh).toBeDefined();
    const res = await postJson(`${server.url}/v1/chat/completions`, {
      model: "tiny-chat",
      messages: zh!.messages,
      temperature: 0,
      stream: true,
      stream_options: { include_usage: true },
    });
    const chunks = (await readSse(res)).filter((e) => e.json).map((e) => e.json!);
    const pieces = chunks.flatMap((c) => (c.choices as Array<{ delta: { content?: string } }>).map((ch) => ch.delta.content ?? "")).filter((p) => p);
    for (const p of pieces) expect(p).not.toContain("\uFFFD");
    expect(pieces.join("")).toBe(zh!.answer);
    const usage = chunks.at(-1)!.usage as { completion_tokens: number };
    // More tokens than text pieces: some tokens held back an incomplete character.
    expect(usage.completion_tokens).toBeGreaterThan(pieces.length);
  });

  it("an independent ONNX Runtime loop gives the engine's greedy ids", async () => {
    const folder = loadModelFolder(defaultModelPath);
    const tokenizer = loadTokenizer(folder);
    const template = compileChatTemplate(folder.chatTemplate!, folder.tokenizerConfig, "tokenizer_config.json");
    for (const e of examples().slice(0, 6)) {
      const promptIds = tokenizer.full.encode(template.render(e.messages), { add_special_tokens: false }).ids;
      const ids = await referenceGreedy(folder.onnxPath, promptIds, 64, folder.special.eos);
      const res = await postJson(`${server.url}/v1/completions`, {
        model: "tiny-chat",
        prompt: promptIds,
        temperature: 0,
        max_tokens: 64,
        logprobs: 0,
      });
      const body = (await res.json()) as { choices: Array<{ logprobs: { tokens: string[] } }> };
      const expected = ids.map((id) => tokenizer.full.decode([id], { skip_special_tokens: false, clean_up_tokenization_spaces: false }));
      // The engine reports no logprob for the EOS token that ended the answer.
      const engineTokens = body.choices[0].logprobs.tokens;
      expect(engineTokens).toEqual(folder.special.eos.includes(ids.at(-1)!) ? expected.slice(0, -1) : expected);
    }
  });
});
