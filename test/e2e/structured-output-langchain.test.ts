/**
 * Structured output through LangChain (@langchain/openai 1.5) against the
 * real server on the shipped tiny-chat model: `ChatOpenAI` configured as a
 * user points it at a local server, then `withStructuredOutput(zodSchema)`
 * with the default method, "jsonSchema" and "jsonMode", plain and streamed.
 * Every request goes through the client's own `fetch` option, recorded, so
 * each answer is also checked on the wire (finish_reason "stop", ajv against
 * the schema the client sent).
 *
 * jsonMode sends `{type: "json_object"}` without the schema: the server then
 * guarantees a JSON object and nothing more, so that is what is asserted
 * (the zod schema of "any JSON object" always parses; the ticket schema only
 * when the object happens to match, which includeRaw shows either way).
 */
import { ChatOpenAI } from "@langchain/openai";
import type { AIMessage } from "@langchain/core/messages";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { z } from "zod";
import { tinyChat } from "../support/fixtures.ts";
import { startLiveServer, type LiveServer } from "../support/live-server.ts";
import {
  AnyJsonObject,
  TICKET_MAX_TOKENS,
  TicketOptionalAssignee as Ticket,
  completeChoice,
  expectValidAgainst,
  recordingFetch,
  sentSchema,
} from "../support/structured-output.ts";

const prompt = "Describe a ticket.";

describe("LangChain ChatOpenAI: withStructuredOutput", () => {
  let server: LiveServer;
  let llm: ChatOpenAI;
  const recorder = recordingFetch();
  beforeAll(async () => {
    server = await startLiveServer(tinyChat);
    llm = new ChatOpenAI({
      model: server.model,
      apiKey: "unused",
      configuration: { baseURL: `${server.url}/v1`, fetch: recorder.fetch },
      temperature: 0,
      maxTokens: TICKET_MAX_TOKENS,
    });
  });
  afterAll(() => server?.close());
  beforeEach(() => recorder.clear());

  it("the default method and 'jsonSchema' send the schema and return an object valid against it", async () => {
    const byDefault = await llm.withStructuredOutput(Ticket).invoke(prompt);
    const defaultExchange = recorder.take();
    expect(defaultExchange.request.response_format).toMatchObject({ type: "json_schema", json_schema: { name: "extract" } });
    expect(byDefault).toEqual(JSON.parse(await completeChoice(defaultExchange)));
    expect(Ticket.parse(byDefault)).toEqual(byDefault);
    expectValidAgainst(sentSchema(defaultExchange), byDefault);

    const jsonSchema = await llm.withStructuredOutput(Ticket, { method: "jsonSchema", name: "ticket" }).invoke(prompt);
    const exchange = recorder.take();
    expect(exchange.request.response_format).toMatchObject({ type: "json_schema", json_schema: { name: "ticket" } });
    expect(jsonSchema).toEqual(JSON.parse(await completeChoice(exchange)));
    expect(Ticket.parse(jsonSchema)).toEqual(jsonSchema);
    expectValidAgainst(sentSchema(exchange), jsonSchema);
    // Same prompt, schema and greedy decoding: the schema's name changes nothing.
    expect(jsonSchema).toEqual(byDefault);
  });

  it("'jsonSchema' streamed: the last chunk is the valid object, the same as invoke()'s", async () => {
    const structured = llm.withStructuredOutput(Ticket, { method: "jsonSchema" });
    const chunks: unknown[] = [];
    for await (const chunk of await structured.stream(prompt)) chunks.push(chunk);
    const exchange = recorder.take();
    // LangChain asks for usage on every stream; the server accepts it.
    expect(exchange.request).toMatchObject({ stream: true, stream_options: { include_usage: true } });
    const last = chunks.at(-1);
    expect(last).toEqual(JSON.parse(await completeChoice(exchange)));
    expect(Ticket.parse(last)).toEqual(last);
    expectValidAgainst(sentSchema(exchange), last);

    const invoked = await structured.invoke(prompt);
    await completeChoice(recorder.take());
    expect(last).toEqual(invoked);
  });

  it("'jsonMode' sends json_object and returns the JSON object the server guarantees", async () => {
    const object = await llm.withStructuredOutput(AnyJsonObject, { method: "jsonMode" }).invoke(prompt);
    const exchange = recorder.take();
    expect(exchange.request.response_format).toEqual({ type: "json_object" });
    const content = await completeChoice(exchange);
    expect(object).toEqual(JSON.parse(content));
    expect(AnyJsonObject.parse(object)).toEqual(object);

    // With the ticket schema LangChain validates the object itself; the server never saw that schema.
    const { raw, parsed } = await llm.withStructuredOutput(Ticket, { method: "jsonMode", includeRaw: true }).invoke(prompt);
    const rawContent = await completeChoice(recorder.take());
    expect((raw as AIMessage).content).toBe(rawContent);
    expect((raw as AIMessage).response_metadata.finish_reason).toBe("stop");
    const value = JSON.parse(rawContent) as unknown;
    expect(AnyJsonObject.safeParse(value).success).toBe(true);
    if (Ticket.safeParse(value).success) expect(parsed).toEqual(value);
    else expect(parsed).toBeNull();
  });

  it("an unsupported schema keyword is a 400 naming its path, and the next request is served", async () => {
    const order = z.object({ quantity: z.number().multipleOf(5) });
    const error = await llm.withStructuredOutput(order, { method: "jsonSchema" }).invoke(prompt).then(
      () => null,
      (e: unknown) => e as { status?: number; param?: string; code?: string },
    );
    expect(recorder.take().status).toBe(400);
    expect(recorder.exchanges).toHaveLength(0); // a 400 is not retried
    expect(error).toMatchObject({ status: 400, param: "response_format.json_schema.schema.properties.quantity.multipleOf", code: "invalid_schema" });

    const next = await llm.withStructuredOutput(Ticket).invoke(prompt);
    await completeChoice(recorder.take());
    expect(Ticket.safeParse(next).success).toBe(true);
  });
});
