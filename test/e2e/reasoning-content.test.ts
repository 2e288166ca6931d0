/**
 * Thinking models through the real server: tiny-chat's weights under a
 * Qwen3-style template, whose generation prompt opens a <think> block
 * unless chat_template_kwargs.enable_thinking is false. What the model
 * writes inside the block is reasoning_content, never content.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eosBan, tinyChat } from "../support/fixtures.ts";
import { startLiveServer, type LiveServer } from "../support/live-server.ts";

// Qwen3's shape: ChatML turns, and a generation prompt that opens the thinking block (or closes an empty one).
const QWEN3_STYLE = [
  "{%- for m in messages %}{{ '<|im_start|>' + m.role + '\\n' + m.content + '<|im_end|>\\n' }}{%- endfor %}",
  "{%- if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}",
  "{%- if enable_thinking is defined and enable_thinking is false %}{{ '<think>\\n\\n</think>\\n\\n' }}{%- else %}{{ '<think>\\n' }}{%- endif %}",
  "{%- endif %}",
].join("");

describe("reasoning_content on a Qwen3-style template", () => {
  let dir: string;
  let server: LiveServer;
  let client: OpenAI;
  let body: OpenAI.ChatCompletionCreateParamsNonStreaming;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "thinking-"));
    cpSync(tinyChat, dir, { recursive: true });
    const configPath = join(dir, "tokenizer_config.json");
    const config = JSON.parse(readFileSync(configPath, "utf8")) as Record<string, unknown>;
    writeFileSync(configPath, JSON.stringify({ ...config, chat_template: QWEN3_STYLE }));
    server = await startLiveServer(dir);
    client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: "unused", maxRetries: 0 });
    // The served model is named after its (temporary) folder.
    const model = (await client.models.list()).data[0].id;
    // EOS banned: the answer runs to max_tokens, inside the block the prompt opened.
    body = { model, messages: [{ role: "user", content: "What is 2+2?" }], temperature: 0, max_tokens: 24, logit_bias: eosBan(tinyChat) };
  });
  afterAll(async () => {
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("thinking on: the output is reasoning, content stays empty, streamed or not", async () => {
    const whole = await client.chat.completions.create(body);
    const message = whole.choices[0].message as OpenAI.ChatCompletionMessage & { reasoning_content?: string };
    expect(message.reasoning_content?.length).toBeGreaterThan(0);
    expect(message.content).toBe("");
    let reasoning = "";
    let content = "";
    for await (const chunk of await client.chat.completions.create({ ...body, stream: true })) {
      const delta = chunk.choices[0]?.delta as { content?: string; reasoning_content?: string } | undefined;
      reasoning += delta?.reasoning_content ?? "";
      content += delta?.content ?? "";
    }
    expect(reasoning).toBe(message.reasoning_content);
    expect(content).toBe("");
  });

  // The same rule holds for a forced tool call: both are whole-output constraints (onnx-engine.ts textShape).
  it("a JSON response_format holds the answer from its first token: the JSON is content, never reasoning", async () => {
    const json = await client.chat.completions.create({ ...body, logit_bias: undefined, max_tokens: 60, response_format: { type: "json_schema", json_schema: { name: "answer", schema: { type: "object", properties: { a: { type: "integer", minimum: 0, maximum: 9 } }, required: ["a"], additionalProperties: false } } } });
    const message = json.choices[0].message as OpenAI.ChatCompletionMessage & { reasoning_content?: string };
    expect(message.reasoning_content).toBeUndefined();
    expect(json.choices[0].finish_reason).toBe("stop");
    expect(JSON.parse(message.content ?? "")).toEqual({ a: expect.any(Number) });
  });

  it("chat_template_kwargs enable_thinking false: the prompt closes the block, the output is content", async () => {
    // chat_template_kwargs is not in the SDK's types; the SDK sends extra fields as they are.
    const request = { ...body, chat_template_kwargs: { enable_thinking: false } } as OpenAI.ChatCompletionCreateParamsNonStreaming;
    const whole = await client.chat.completions.create(request);
    const message = whole.choices[0].message as OpenAI.ChatCompletionMessage & { reasoning_content?: string };
    expect(message.reasoning_content).toBeUndefined();
    expect(message.content?.length).toBeGreaterThan(0);
  });
});
