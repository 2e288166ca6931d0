/**
 * Tool round trips through the official openai client against the real
 * server on tiny-chat, which learned one tool (get_weather(city), answered
 * from the result). With tool_choice auto the model decides to call, the
 * client runs the tool and sends the result back in the history, and the
 * model answers from it; streamed and not, the calls and the answer are
 * the same. Forced (required, a named function) and none are checked too.
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

// The function as the default model learned it: get_weather(city).
const learnedTools: OpenAI.ChatCompletionTool[] = [
  {
    type: "function",
    function: {
      name: "get_weather",
      description: "Get the current weather in a city.",
      parameters: { type: "object", properties: { city: { type: "string", description: "The city" } }, required: ["city"] },
    },
  },
];

interface StreamedTurn {
  content: string;
  calls: Array<{ id: string; name: string; arguments: string }>;
  finish: string | null;
}

async function streamedTurn(stream: AsyncIterable<OpenAI.ChatCompletionChunk>): Promise<StreamedTurn> {
  const turn: StreamedTurn = { content: "", calls: [], finish: null };
  for await (const chunk of stream) {
    const choice = chunk.choices[0];
    if (!choice) continue;
    turn.finish = choice.finish_reason ?? turn.finish;
    turn.content += choice.delta.content ?? "";
    for (const piece of choice.delta.tool_calls ?? []) {
      if (piece.id) turn.calls[piece.index] = { id: piece.id, name: piece.function?.name ?? "", arguments: piece.function?.arguments ?? "" };
      else turn.calls[piece.index].arguments += piece.function?.arguments ?? "";
    }
  }
  return turn;
}

describe("openai client: tool calls", () => {
  let server: LiveServer;
  let client: OpenAI;
  beforeAll(async () => {
    server = await startLiveServer(tinyChat);
    client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: "unused", maxRetries: 0 });
  });
  afterAll(() => server?.close());

  it("auto: the model calls the tool by itself, then answers from its result; streamed the same", async () => {
    const question: OpenAI.ChatCompletionMessageParam[] = [{ role: "user", content: "What is the weather in Oslo?" }];
    const request = { model: "tiny-chat", messages: question, tools: learnedTools, temperature: 0, max_tokens: 200 } as const;
    const first = await client.chat.completions.create(request);
    const choice = first.choices[0];
    expect(choice.finish_reason).toBe("tool_calls");
    expect(choice.message.content).toBeNull();
    expect(choice.message.tool_calls).toHaveLength(1);
    const call = choice.message.tool_calls?.[0];
    if (call?.type !== "function") throw new Error("expected a function call");
    expect(call.function.name).toBe("get_weather");
    expect(JSON.parse(call.function.arguments)).toEqual({ city: "Oslo" });

    const streamed = await streamedTurn(await client.chat.completions.create({ ...request, stream: true }));
    expect(streamed.finish).toBe("tool_calls");
    expect(streamed.content).toBe("");
    expect(streamed.calls.map((c) => [c.name, c.arguments])).toEqual([[call.function.name, call.function.arguments]]);

    // The client runs the tool and sends its result back with the call, as an agent loop does.
    const followUp = {
      ...request,
      messages: [...question, choice.message, { role: "tool" as const, tool_call_id: call.id, content: JSON.stringify({ temperature: 21, condition: "sunny" }) }],
    };
    const second = await client.chat.completions.create(followUp);
    expect(second.choices[0].finish_reason).toBe("stop");
    expect(second.choices[0].message.tool_calls ?? []).toEqual([]);
    expect(second.choices[0].message.content).toBe("It is 21°C and sunny in Oslo.");
    const secondStreamed = await streamedTurn(await client.chat.completions.create({ ...followUp, stream: true }));
    expect(secondStreamed).toEqual({ content: "It is 21°C and sunny in Oslo.", calls: [], finish: "stop" });
  });

  it("auto: a question the tool does not answer gets its answer, no call", async () => {
    const answer = await client.chat.completions.create({ model: "tiny-chat", messages: [{ role: "user", content: "What is 12 + 30?" }], tools: learnedTools, temperature: 0, max_tokens: 40 });
    expect(answer.choices[0].message.tool_calls ?? []).toEqual([]);
    expect(answer.choices[0].message.content).toBe("42");
    expect(answer.choices[0].finish_reason).toBe("stop");
  });

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
    const { calls, finish } = await streamedTurn(await client.chat.completions.create({ ...request, stream: true }));
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
