/**
 * Tool round trips through LangChain (bindTools, invoke with the tool
 * message) and the AI SDK (generateText with tools and stopWhen) against
 * the real server on tiny-chat. The first turn forces the call (a named
 * tool), as an agent does when it must use a tool; the second answers from
 * the tool's result in text.
 */
import { createOpenAICompatible } from "@ai-sdk/openai-compatible";
import { HumanMessage, ToolMessage, type AIMessage } from "@langchain/core/messages";
import { tool as langchainTool } from "@langchain/core/tools";
import { ChatOpenAI } from "@langchain/openai";
import { generateText, stepCountIs, tool as aiTool } from "ai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { tinyChat } from "../support/fixtures.ts";
import { startLiveServer, type LiveServer } from "../support/live-server.ts";

const City = z.object({ city: z.string().max(12).describe("City name") });

describe("agent frameworks: a tool round trip on tiny-chat", () => {
  let server: LiveServer;
  beforeAll(async () => {
    server = await startLiveServer(tinyChat);
  });
  afterAll(() => server?.close());

  it("LangChain: bindTools with a forced tool, the call, the ToolMessage, the answer", async () => {
    const llm = new ChatOpenAI({ model: "tiny-chat", apiKey: "unused", configuration: { baseURL: `${server.url}/v1` }, maxRetries: 0, temperature: 0, maxTokens: 200 });
    const getWeather = langchainTool(async ({ city }: { city: string }) => `Sunny and 21 C in ${city}`, { name: "get_weather", description: "Current weather", schema: City });
    const question = new HumanMessage("What is the weather in Oslo?");
    const ai = (await llm.bindTools([getWeather], { tool_choice: "get_weather" }).invoke([question])) as AIMessage;
    const call = ai.tool_calls?.[0];
    expect(call?.name).toBe("get_weather");
    expect(City.safeParse(call?.args).success).toBe(true);
    const result = new ToolMessage({ tool_call_id: call?.id ?? "", content: await getWeather.invoke(call?.args as { city: string }) });
    const answer = await llm.bindTools([getWeather]).invoke([question, ai, result]);
    expect(typeof answer.content).toBe("string");
    expect(answer.response_metadata.finish_reason).toBeDefined();
  });

  it("AI SDK: generateText runs the tool the first step forced and answers in the next", async () => {
    const provider = createOpenAICompatible({ name: "local", baseURL: `${server.url}/v1`, apiKey: "unused" });
    const executed: string[] = [];
    const result = await generateText({
      model: provider("tiny-chat"),
      prompt: "What is the weather in Oslo?",
      tools: {
        get_weather: aiTool({
          description: "Current weather",
          inputSchema: City,
          execute: async ({ city }) => {
            executed.push(city);
            return { city, temperature: 21 };
          },
        }),
      },
      // An agent that must look the weather up first, then answer.
      prepareStep: ({ stepNumber }) => (stepNumber === 0 ? { toolChoice: { type: "tool", toolName: "get_weather" } } : { toolChoice: "none" }),
      stopWhen: stepCountIs(2),
      temperature: 0,
      maxOutputTokens: 200,
      maxRetries: 0,
    });
    expect(result.steps).toHaveLength(2);
    expect(result.steps[0].toolCalls.map((c) => c.toolName)).toEqual(["get_weather"]);
    expect(executed).toHaveLength(1);
    expect(result.steps[1].toolCalls).toEqual([]);
    expect(typeof result.text).toBe("string");
  });
});
