/**
 * Tool round trips through LangChain (bindTools, invoke with the tool
 * message) and the AI SDK (generateText / streamText with tools and
 * stopWhen) against the real server on tiny-chat, which learned one tool:
 * get_weather(city), answered from the result. Left to choose, the model
 * calls the tool, the framework runs it and sends the result back, and the
 * model answers from it; streamed and not, the calls and answers are the
 * same. A forced first step (an agent that must use the tool) is checked
 * too.
 */
import { createOpenAICompatible } from "@ai-sdk/openai-compatible";
import { AIMessageChunk, HumanMessage, ToolMessage, type AIMessage } from "@langchain/core/messages";
import { tool as langchainTool } from "@langchain/core/tools";
import { ChatOpenAI } from "@langchain/openai";
import { generateText, stepCountIs, streamText, tool as aiTool } from "ai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { tinyChat } from "../support/fixtures.ts";
import { startLiveServer, type LiveServer } from "../support/live-server.ts";

const City = z.object({ city: z.string().describe("The city") });
const DESCRIPTION = "Get the current weather in a city.";
const WEATHER = { temperature: 21, condition: "sunny" };
const ANSWER = "It is 21°C and sunny in Oslo.";

describe("agent frameworks: a tool round trip on tiny-chat", () => {
  let server: LiveServer;
  beforeAll(async () => {
    server = await startLiveServer(tinyChat);
  });
  afterAll(() => server?.close());

  const chatModel = () =>
    new ChatOpenAI({ model: "tiny-chat", apiKey: "unused", configuration: { baseURL: `${server.url}/v1` }, maxRetries: 0, temperature: 0, maxTokens: 200 });
  const langchainWeather = () => langchainTool(async () => JSON.stringify(WEATHER), { name: "get_weather", description: DESCRIPTION, schema: City });

  it("LangChain: bindTools, the model calls, the ToolMessage, the answer; .stream() gives the same", async () => {
    const getWeather = langchainWeather();
    const llm = chatModel().bindTools([getWeather]);
    const question = new HumanMessage("What is the weather in Oslo?");
    const ai = (await llm.invoke([question])) as AIMessage;
    expect(ai.tool_calls?.map((c) => [c.name, c.args])).toEqual([["get_weather", { city: "Oslo" }]]);
    expect(ai.response_metadata.finish_reason).toBe("tool_calls");

    let streamed: AIMessageChunk | undefined;
    for await (const chunk of await llm.stream([question])) streamed = streamed ? streamed.concat(chunk) : chunk;
    expect(streamed?.tool_calls?.map((c) => [c.name, c.args])).toEqual([["get_weather", { city: "Oslo" }]]);

    const call = ai.tool_calls?.[0];
    if (!call?.id) throw new Error("expected a call with an id");
    const result = new ToolMessage({ tool_call_id: call.id, content: await getWeather.invoke(call.args as { city: string }) });
    const answer = await llm.invoke([question, ai, result]);
    expect(answer.content).toBe(ANSWER);
    expect(answer.tool_calls ?? []).toEqual([]);
    let streamedAnswer = "";
    for await (const chunk of await llm.stream([question, ai, result])) streamedAnswer += typeof chunk.content === "string" ? chunk.content : "";
    expect(streamedAnswer).toBe(ANSWER);
  });

  it("LangChain: a forced tool (tool_choice by name) is called with valid arguments", async () => {
    const ai = (await chatModel().bindTools([langchainWeather()], { tool_choice: "get_weather" }).invoke([new HumanMessage("Weather in Paris?")])) as AIMessage;
    expect(ai.tool_calls?.map((c) => c.name)).toEqual(["get_weather"]);
    expect(City.safeParse(ai.tool_calls?.[0].args).success).toBe(true);
  });

  const aiSdkRun = (executed: string[]) => ({
    model: createOpenAICompatible({ name: "local", baseURL: `${server.url}/v1`, apiKey: "unused" })("tiny-chat"),
    prompt: "What is the weather in Oslo?",
    tools: {
      get_weather: aiTool({
        description: DESCRIPTION,
        inputSchema: City,
        execute: async ({ city }) => {
          executed.push(city);
          return WEATHER;
        },
      }),
    },
    // Room for more steps than needed: the loop ends because the model answers instead of calling again.
    stopWhen: stepCountIs(4),
    temperature: 0,
    maxOutputTokens: 200,
    maxRetries: 0,
  });

  it("AI SDK: generateText calls the tool, runs it, and answers from the result; streamText the same", async () => {
    const executed: string[] = [];
    const result = await generateText(aiSdkRun(executed));
    expect(result.steps).toHaveLength(2);
    expect(result.steps[0].toolCalls.map((c) => [c.toolName, c.input])).toEqual([["get_weather", { city: "Oslo" }]]);
    expect(result.steps[0].finishReason).toBe("tool-calls");
    expect(executed).toEqual(["Oslo"]);
    expect(result.steps[1].toolCalls).toEqual([]);
    expect(result.text).toBe(ANSWER);
    expect(result.finishReason).toBe("stop");

    const streamedExecuted: string[] = [];
    const streamed = streamText(aiSdkRun(streamedExecuted));
    const steps = await streamed.steps;
    expect(steps.map((s) => s.toolCalls.map((c) => [c.toolName, c.input]))).toEqual([[["get_weather", { city: "Oslo" }]], []]);
    expect(streamedExecuted).toEqual(["Oslo"]);
    expect(await streamed.text).toBe(ANSWER);
  });

  it("AI SDK: a first step forced to the tool (prepareStep), then an answer without tools", async () => {
    const executed: string[] = [];
    const result = await generateText({
      ...aiSdkRun(executed),
      prompt: "Weather in Paris?",
      prepareStep: ({ stepNumber }) => (stepNumber === 0 ? { toolChoice: { type: "tool", toolName: "get_weather" } } : { toolChoice: "none" }),
      stopWhen: stepCountIs(2),
    });
    expect(result.steps).toHaveLength(2);
    expect(result.steps[0].toolCalls.map((c) => c.toolName)).toEqual(["get_weather"]);
    expect(executed).toHaveLength(1);
    expect(result.steps[1].toolCalls).toEqual([]);
    expect(typeof result.text).toBe("string");
  });
});
