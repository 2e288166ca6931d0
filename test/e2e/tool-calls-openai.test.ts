/**
 * A tool round trip through the official openai client against the real
 * server on tiny-chat: the model is made to call (tool_choice required, or
 * a named function), the client runs the tool and sends the result back in
 * the history, and the model answers in text. Streamed and not, the calls
 * are the same.
 */
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { schemaValid } from "../generation/constraint/support.ts";
import { tinyChat } from "../support/fixtures.ts";
import { startLiveServer, type LiveServer } from "../support/live-server.ts";

const weatherParameters = {
  type: "object",
  properties: { city: { type: "string", maxLength: 12 }, unit: { type: "string", enum: ["celsius", "fahrenheit"] } },
  required: ["city"],
  additionalProperties: false,
};
const tools: OpenAI.ChatCompletionTool[] = [
  { type: "function", function: { name: "get_weather", description: "The weather in a city", parameters: weatherParameters } },
];
const question: OpenAI.ChatCompletionMessageParam[] = [{ role: "user", content: "What is the weather in Oslo?" }];

describe("openai client: tool calls", () => {
  let server: LiveServer;
  let client: OpenAI;
  beforeAll(async () => {
    server = await startLiveServer(tinyChat);
    client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: "unused", maxRetries: 0 });
  });
  afterAll(() => server?.close());

  it("required: a call with valid arguments, then an answer from the tool's result", async () => {
    const first = await client.chat.completions.create({ model: "tiny-chat", messages: question, tools, tool_choice: "required", parallel_tool_calls: false, temperature: 0, max_tokens: 200 });
    const choice = first.choices[0];
    expect(choice.finish_reason).toBe("tool_calls");
    expect(choice.message.content).toBeNull();
    const call = choice.message.tool_calls?.[0];
    expect(call?.type).toBe("function");
    if (call?.type !== "function") return;
    expect(call.function.name).toBe("get_weather");
    expect(schemaValid(weatherParameters, JSON.parse(call.function.arguments))).toBe(true);

    const second = await client.chat.completions.create({
      model: "tiny-chat",
      messages: [...question, choice.message, { role: "tool", tool_call_id: call.id, content: JSON.stringify({ temperature: 21, sky: "sunny" }) }],
      tools,
      temperature: 0,
      max_tokens: 40,
    });
    expect(["stop", "length", "tool_calls"]).toContain(second.choices[0].finish_reason);
    expect(second.usage?.prompt_tokens).toBeGreaterThan(first.usage?.prompt_tokens ?? 0);
  });

  it("streamed: the deltas reassemble to the same call as the answer not streamed", async () => {
    const request = { model: "tiny-chat", messages: question, tools, tool_choice: { type: "function", function: { name: "get_weather" } }, temperature: 0, max_tokens: 200 } as const;
    const whole = await client.chat.completions.create(request);
    const stream = await client.chat.completions.create({ ...request, stream: true });
    const calls: Array<{ id: string; name: string; arguments: string }> = [];
    let finish: string | null = null;
    for await (const chunk of stream) {
      const choice = chunk.choices[0];
      if (!choice) continue;
      finish = choice.finish_reason ?? finish;
      for (const piece of choice.delta.tool_calls ?? []) {
        if (piece.id) calls[piece.index] = { id: piece.id, name: piece.function?.name ?? "", arguments: piece.function?.arguments ?? "" };
        else calls[piece.index].arguments += piece.function?.arguments ?? "";
      }
    }
    expect(finish).toBe("tool_calls");
    const expected = whole.choices[0].message.tool_calls?.map((c) => (c.type === "function" ? [c.function.name, c.function.arguments] : [])) ?? [];
    expect(calls.map((c) => [c.name, c.arguments])).toEqual(expected);
  });

  it("none: no call, plain content", async () => {
    const answer = await client.chat.completions.create({ model: "tiny-chat", messages: question, tools, tool_choice: "none", temperature: 0, max_tokens: 30 });
    expect(answer.choices[0].message.tool_calls ?? []).toEqual([]);
    expect(answer.choices[0].finish_reason).not.toBe("tool_calls");
  });
});
