/**
 * The request bodies the three clients people point at this server really
 * send for tool calling and the informational fields, captured from the
 * clients themselves (their `fetch` option, answered by a canned
 * OpenAI-shaped reply) and then parsed: the official openai SDK 6
 * (`chat.completions.create`), LangChain's ChatOpenAI with tools bound, and
 * the AI SDK's openai-compatible provider with `tools` and `stopWhen`. Each
 * client goes through a whole round trip (call, tool result, answer), so
 * the history bodies are theirs too.
 */
import { createOpenAICompatible } from "@ai-sdk/openai-compatible";
import { tool as langchainTool } from "@langchain/core/tools";
import { HumanMessage, ToolMessage, type AIMessage } from "@langchain/core/messages";
import { ChatOpenAI } from "@langchain/openai";
import { generateText, stepCountIs, tool as aiTool } from "ai";
import OpenAI from "openai";
import { beforeEach, describe, expect, it } from "vitest";
import { z } from "zod";
import type { ChatMessage } from "../../src/domain.ts";
import { parseChatRequest } from "../../src/protocol/chat-request.ts";
import type { ParsedGenerationRequest } from "../../src/protocol/request-common.ts";
import { limits } from "./helpers.ts";

const BASE_URL = "http://clients.invalid/v1";
const MODEL = "tiny-chat";
const CALL_ARGUMENTS = '{"city":"Paris"}';

interface Captured {
  url: string;
  body: Record<string, unknown>;
}

/** A fetch that records each body and answers as a server would: a call while tools are offered and no result came back yet, else text. */
function fakeServer(): { fetch: typeof fetch; bodies: Captured[] } {
  const bodies: Captured[] = [];
  const reply = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const url = input instanceof Request ? input.url : String(input);
    if (typeof init?.body !== "string") throw new Error(`expected a JSON body for ${url}`);
    const body = JSON.parse(init.body) as Record<string, unknown>;
    bodies.push({ url, body });
    const messages = body.messages as Array<{ role: string }>;
    const tools = (body.tools ?? []) as Array<{ function: { name: string } }>;
    const callNow = tools.length > 0 && messages.at(-1)?.role !== "tool";
    const base = { id: `chatcmpl-${bodies.length}`, created: 1, model: MODEL };
    if (body.stream === true) {
      const chunk = { ...base, object: "chat.completion.chunk", choices: [{ index: 0, delta: { role: "assistant", content: "It is sunny." }, finish_reason: null }] };
      const done = { ...base, object: "chat.completion.chunk", choices: [{ index: 0, delta: {}, finish_reason: "stop" }] };
      const sse = `data: ${JSON.stringify(chunk)}\n\ndata: ${JSON.stringify(done)}\n\ndata: [DONE]\n\n`;
      return new Response(sse, { headers: { "content-type": "text/event-stream" } });
    }
    const message = callNow
      ? { role: "assistant", content: null, tool_calls: [{ id: "call_1", type: "function", function: { name: tools[0]!.function.name, arguments: CALL_ARGUMENTS } }] }
      : { role: "assistant", content: "It is sunny." };
    const completion = {
      ...base,
      object: "chat.completion",
      choices: [{ index: 0, message, finish_reason: callNow ? "tool_calls" : "stop", logprobs: null }],
      usage: { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 },
    };
    return Response.json(completion);
  };
  return { fetch: reply as typeof fetch, bodies };
}

function parsed(captured: Captured): ParsedGenerationRequest {
  expect(captured.url).toBe(`${BASE_URL}/chat/completions`);
  return parseChatRequest(captured.body, limits);
}

const messagesOf = (p: ParsedGenerationRequest): ChatMessage[] => (p.request.prompt.kind === "chat" ? p.request.prompt.messages : []);

/** The round trip's second request: the history holds the call and its result, in the server's terms. */
function expectRoundTripHistory(p: ParsedGenerationRequest, toolName: string): void {
  const messages = messagesOf(p);
  const assistant = messages.find((m) => m.role === "assistant");
  expect(assistant?.toolCalls).toEqual([{ id: "call_1", name: toolName, arguments: expect.any(String) }]);
  expect(JSON.parse(assistant!.toolCalls![0]!.arguments)).toEqual({ city: "Paris" });
  expect(messages.at(-1)).toMatchObject({ role: "tool", toolCallId: "call_1" });
}

const weatherParameters = {
  type: "object",
  properties: { city: { type: "string", description: "City name" } },
  required: ["city"],
  additionalProperties: false,
};

describe("openai SDK 6: chat.completions.create", () => {
  let server: ReturnType<typeof fakeServer>;
  let client: OpenAI;
  beforeEach(() => {
    server = fakeServer();
    client = new OpenAI({ baseURL: BASE_URL, apiKey: "unused", fetch: server.fetch, maxRetries: 0 });
  });

  const tools: OpenAI.Chat.Completions.ChatCompletionTool[] = [
    { type: "function", function: { name: "get_weather", description: "Current weather", parameters: weatherParameters, strict: true } },
  ];

  it("tools, tool_choice, parallel_tool_calls and every informational field, then the tool result", async () => {
    const first = await client.chat.completions.create({
      model: MODEL,
      messages: [{ role: "user", content: "Weather in Paris?" }],
      tools,
      tool_choice: "auto",
      parallel_tool_calls: false,
      metadata: { team: "search" },
      user: "user-1",
      safety_identifier: "hashed-user-1",
      service_tier: "auto",
      prompt_cache_key: "conversation-42",
      store: false,
    });
    const request = parsed(server.bodies[0]!);
    expect(request.request.tools).toMatchObject({ choice: { kind: "auto" }, parallel: false, tools: [{ name: "get_weather" }] });
    expect(request).toMatchObject({ user: "user-1", safetyIdentifier: "hashed-user-1", metadata: { team: "search" } });

    const call = first.choices[0]!.message.tool_calls![0]!;
    await client.chat.completions.create({
      model: MODEL,
      messages: [
        { role: "user", content: "Weather in Paris?" },
        first.choices[0]!.message,
        { role: "tool", tool_call_id: call.id, content: JSON.stringify({ temp: 21 }) },
      ],
      tools,
      tool_choice: { type: "function", function: { name: "get_weather" } },
    });
    const second = parsed(server.bodies[1]!);
    expect(second.request.tools?.choice).toEqual({ kind: "function", name: "get_weather" });
    expectRoundTripHistory(second, "get_weather");
  });

  it("streamed, with stream_options.include_obfuscation false and tool_choice required", async () => {
    const stream = await client.chat.completions.create({
      model: MODEL,
      messages: [{ role: "user", content: "Weather in Paris?" }],
      tools,
      tool_choice: "required",
      stream: true,
      stream_options: { include_usage: true, include_obfuscation: false },
      service_tier: "default",
    });
    for await (const _chunk of stream) {
      // drained: the body is what is checked
    }
    const request = parsed(server.bodies[0]!);
    expect(request).toMatchObject({ stream: true, includeUsage: true });
    expect(request.request.tools?.choice).toEqual({ kind: "required" });
  });
});

describe("LangChain ChatOpenAI: bindTools, invoke with the tool message", () => {
  it("a zod tool and an OpenAI-format tool, then the round trip", async () => {
    const server = fakeServer();
    const llm = new ChatOpenAI({ model: MODEL, apiKey: "unused", configuration: { baseURL: BASE_URL, fetch: server.fetch }, maxRetries: 0, temperature: 0 });
    const getWeather = langchainTool(async ({ city }: { city: string }) => `Sunny in ${city}`, {
      name: "get_weather",
      description: "Current weather",
      schema: z.object({ city: z.string().describe("City name") }),
    });
    const openaiFormat = { type: "function" as const, function: { name: "get_time", description: "Current time", parameters: { type: "object", properties: {} } } };
    const bound = llm.bindTools([getWeather, openaiFormat]);

    const question = new HumanMessage("Weather in Paris?");
    const ai = (await bound.invoke([question])) as AIMessage;
    expect(ai.tool_calls?.[0]).toMatchObject({ name: "get_weather", args: { city: "Paris" }, id: "call_1" });
    const first = parsed(server.bodies[0]!);
    expect(first.request.tools?.tools.map((t) => t.name)).toEqual(["get_weather", "get_time"]);

    const result = new ToolMessage({ tool_call_id: ai.tool_calls![0]!.id!, content: await getWeather.invoke({ city: "Paris" }) });
    const answer = await bound.invoke([question, ai, result]);
    expect(answer.content).toBe("It is sunny.");
    expectRoundTripHistory(parsed(server.bodies[1]!), "get_weather");

    // Streaming sends stream_options as well.
    const chunks = await bound.stream([question]);
    for await (const _chunk of chunks) {
      // drained
    }
    expect(parsed(server.bodies[2]!).stream).toBe(true);
  });
});

describe("AI SDK openai-compatible: generateText with tools and stopWhen", () => {
  it("the call, the SDK's own tool result and the final answer", async () => {
    const server = fakeServer();
    const provider = createOpenAICompatible({ name: "local", baseURL: BASE_URL, apiKey: "unused", fetch: server.fetch });
    const result = await generateText({
      model: provider(MODEL),
      prompt: "Weather in Paris?",
      tools: {
        get_weather: aiTool({
          description: "Current weather",
          inputSchema: z.object({ city: z.string() }),
          execute: async ({ city }) => ({ city, temp: 21 }),
        }),
      },
      stopWhen: stepCountIs(3),
      maxRetries: 0,
    });
    expect(result.text).toBe("It is sunny.");
    expect(server.bodies).toHaveLength(2);
    const first = parsed(server.bodies[0]!);
    expect(first.request.tools?.tools).toEqual([{ name: "get_weather", description: "Current weather", parameters: expect.objectContaining({ type: "object" }) }]);
    expectRoundTripHistory(parsed(server.bodies[1]!), "get_weather");
  });
});
