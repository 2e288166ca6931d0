/**
 * Structured output through the official openai client (v6) against the real
 * server on the shipped tiny-chat model: `chat.completions.parse` and
 * `chat.completions.stream` with `zodResponseFormat`, as a user writes them.
 * The model writes poor content; the engine guarantees the shape, so every
 * assertion is about validity, never about what the values say. What the
 * client sent and got is recorded (its own `fetch` option) so each answer is
 * also checked on the wire: finish_reason "stop" and ajv against the schema
 * the client sent.
 */
import OpenAI, { BadRequestError } from "openai";
import { LengthFinishReasonError } from "openai/core/error";
import { zodResponseFormat } from "openai/helpers/zod";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { z } from "zod";
import { tinyChat } from "../support/fixtures.ts";
import { startLiveServer, type LiveServer } from "../support/live-server.ts";
import {
  TICKET_MAX_TOKENS,
  Ticket,
  completeChoice,
  expectValidAgainst,
  recordingFetch,
  sentSchema,
  wireChoices,
} from "../support/structured-output.ts";

const messages: OpenAI.ChatCompletionMessageParam[] = [{ role: "user", content: "Describe a ticket as JSON." }];

describe("openai client: structured output", () => {
  let server: LiveServer;
  let client: OpenAI;
  const recorder = recordingFetch();
  const ticketFormat = zodResponseFormat(Ticket, "ticket");
  beforeAll(async () => {
    server = await startLiveServer(tinyChat);
    client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: "unused", maxRetries: 0, fetch: recorder.fetch });
  });
  afterAll(() => server?.close());
  beforeEach(() => recorder.clear());

  it("parse() returns message.parsed: the content, valid against the zod schema", async () => {
    const answer = await client.chat.completions.parse({
      model: server.model,
      messages,
      response_format: ticketFormat,
      max_tokens: TICKET_MAX_TOKENS,
      temperature: 0,
      seed: 11,
    });
    const exchange = recorder.take();
    expect(exchange.request.response_format).toMatchObject({ type: "json_schema", json_schema: { name: "ticket", strict: true } });
    const content = await completeChoice(exchange);

    const choice = answer.choices[0];
    expect(choice.finish_reason).toBe("stop");
    expect(choice.message.content).toBe(content);
    expect(choice.message.parsed).toEqual(JSON.parse(content));
    expect(Ticket.parse(choice.message.parsed)).toEqual(choice.message.parsed);
    expectValidAgainst(sentSchema(exchange), choice.message.parsed);
  });

  it("parse() with n = 2 and a seed parses every choice", async () => {
    const answer = await client.chat.completions.parse({
      model: server.model,
      messages,
      response_format: ticketFormat,
      max_tokens: TICKET_MAX_TOKENS,
      temperature: 1,
      seed: 3,
      n: 2,
    });
    const exchange = recorder.take();
    const wire = await wireChoices(exchange);
    expect(answer.choices.map((c) => c.index)).toEqual([0, 1]);
    for (const choice of answer.choices) {
      expect(choice.finish_reason, `choice ${choice.index}: ${choice.message.content}`).toBe("stop");
      expect(choice.message.content).toBe(wire[choice.index].content);
      expect(choice.message.parsed).toEqual(JSON.parse(choice.message.content!));
      expect(Ticket.safeParse(choice.message.parsed).success).toBe(true);
      expectValidAgainst(sentSchema(exchange), choice.message.parsed);
    }
  });

  it("stream(): the deltas join to the non-streamed content, and finalChatCompletion() is parsed", async () => {
    const params = {
      model: server.model,
      messages,
      response_format: ticketFormat,
      max_tokens: TICKET_MAX_TOKENS,
      temperature: 0,
      seed: 5,
    };
    const plain = await client.chat.completions.create(params);
    const plainContent = await completeChoice(recorder.take());
    expect(plain.choices[0].message.content).toBe(plainContent);

    const stream = client.chat.completions.stream(params);
    let joined = "";
    let finish: string | null = null;
    for await (const chunk of stream) {
      joined += chunk.choices[0]?.delta.content ?? "";
      finish = chunk.choices[0]?.finish_reason ?? finish;
    }
    const final = await stream.finalChatCompletion();
    const exchange = recorder.take();
    expect(exchange.request.stream).toBe(true);
    expect(await completeChoice(exchange)).toBe(joined);

    expect(finish).toBe("stop");
    expect(joined).toBe(plainContent);
    const choice = final.choices[0];
    expect(choice.finish_reason).toBe("stop");
    expect(choice.message.content).toBe(joined);
    expect(choice.message.parsed).toEqual(JSON.parse(joined));
    expect(Ticket.parse(choice.message.parsed)).toEqual(choice.message.parsed);
    expectValidAgainst(sentSchema(exchange), choice.message.parsed);
  });

  it("a value cut by max_tokens ends with 'length', which parse() reports as LengthFinishReasonError", async () => {
    const cut = client.chat.completions.parse({ model: server.model, messages, response_format: ticketFormat, max_tokens: 5, temperature: 0 });
    await expect(cut).rejects.toBeInstanceOf(LengthFinishReasonError);
    const [choice] = await wireChoices(recorder.take());
    expect(choice.finishReason).toBe("length");
    expect(() => JSON.parse(choice.content)).toThrow(SyntaxError);
  });

  it("an unsupported schema keyword is a BadRequestError naming its path, and the next request is served", async () => {
    const refused = async (format: OpenAI.ResponseFormatJSONSchema): Promise<BadRequestError> => {
      const error = await client.chat.completions.create({ model: server.model, messages, response_format: format, max_tokens: 20 }).then(
        () => null,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(BadRequestError);
      expect(recorder.take().status).toBe(400);
      return error as BadRequestError;
    };
    // As a user meets it: a zod refinement the engine cannot guarantee while generating.
    const multipleOf = await refused(zodResponseFormat(z.object({ quantity: z.number().multipleOf(5) }), "order"));
    expect(multipleOf.status).toBe(400);
    expect(multipleOf.param).toBe("response_format.json_schema.schema.properties.quantity.multipleOf");
    expect(multipleOf.code).toBe("invalid_schema");
    expect(multipleOf.message).toContain("multipleOf");

    // Deeper: inside a definition reached through $ref.
    const not = await refused({
      type: "json_schema",
      json_schema: {
        name: "tags",
        strict: true,
        schema: {
          type: "object",
          properties: { tags: { type: "array", items: { $ref: "#/$defs/tag" }, maxItems: 2 } },
          required: ["tags"],
          additionalProperties: false,
          $defs: { tag: { type: "string", maxLength: 3, not: { const: "x" } } },
        },
      },
    });
    expect(not.param).toBe("response_format.json_schema.schema.$defs.tag.not");
    expect(not.code).toBe("invalid_schema");

    const next = await client.chat.completions.parse({
      model: server.model,
      messages,
      response_format: ticketFormat,
      max_tokens: TICKET_MAX_TOKENS,
      temperature: 0,
    });
    await completeChoice(recorder.take());
    expect(Ticket.safeParse(next.choices[0].message.parsed).success).toBe(true);
  });
});
