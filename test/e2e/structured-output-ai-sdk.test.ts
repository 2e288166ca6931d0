/**
 * Structured output through the Vercel AI SDK (ai 6 +
 * @ai-sdk/openai-compatible 2) against the real server on the shipped
 * tiny-chat model: `generateObject` and `streamObject` with a zod schema.
 * Every request goes through the provider's own `fetch` option, recorded,
 * so each answer is also checked on the wire (finish_reason "stop", ajv
 * against the schema the SDK sent).
 *
 * With `supportsStructuredOutputs: true` the SDK sends the schema as
 * `json_schema`, and the object is guaranteed valid. Without it the SDK
 * sends only `{type: "json_object"}` (and warns that the schema is not
 * sent); the server then guarantees a JSON object and nothing more, and the
 * SDK validates that object against the zod schema itself.
 */
import { createOpenAICompatible } from "@ai-sdk/openai-compatible";
import { APICallError, NoObjectGeneratedError, TypeValidationError, generateObject, streamObject } from "ai";
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
const settings = { prompt, maxOutputTokens: TICKET_MAX_TOKENS, temperature: 0, seed: 7 } as const;

describe("AI SDK openai-compatible: generateObject and streamObject", () => {
  let server: LiveServer;
  const recorder = recordingFetch();
  let structured: ReturnType<typeof createOpenAICompatible>;
  let jsonOnly: ReturnType<typeof createOpenAICompatible>;
  const logWarnings = globalThis.AI_SDK_LOG_WARNINGS;
  beforeAll(async () => {
    // The SDK's console warning for json_object without a schema: asserted on the result instead.
    globalThis.AI_SDK_LOG_WARNINGS = false;
    server = await startLiveServer(tinyChat);
    const common = { name: "local", baseURL: `${server.url}/v1`, apiKey: "unused", fetch: recorder.fetch };
    structured = createOpenAICompatible({ ...common, supportsStructuredOutputs: true });
    jsonOnly = createOpenAICompatible(common);
  });
  afterAll(async () => {
    globalThis.AI_SDK_LOG_WARNINGS = logWarnings;
    await server?.close();
  });
  beforeEach(() => recorder.clear());

  it("generateObject with supportsStructuredOutputs returns an object valid against the zod schema", async () => {
    const result = await generateObject({ model: structured(server.model), schema: Ticket, ...settings });
    const exchange = recorder.take();
    expect(exchange.request.response_format).toMatchObject({ type: "json_schema", json_schema: { name: "response", strict: true } });
    expect(exchange.request).toMatchObject({ max_tokens: TICKET_MAX_TOKENS, temperature: 0, seed: 7 });
    expect(result.finishReason).toBe("stop");
    expect(result.object).toEqual(JSON.parse(await completeChoice(exchange)));
    expect(Ticket.parse(result.object)).toEqual(result.object);
    expectValidAgainst(sentSchema(exchange), result.object);
    expect(result.warnings).toEqual([]);
  });

  it("streamObject: the final object is valid, the last partial, and the same as generateObject's", async () => {
    // The SDK only settles `object` once its stream is read, as its docs show: read it.
    const stream = streamObject({ model: structured(server.model), schema: Ticket, ...settings });
    const partials: unknown[] = [];
    for await (const partial of stream.partialObjectStream) partials.push(partial);
    const object = await stream.object;
    const exchange = recorder.take();
    expect(exchange.request.stream).toBe(true);
    expect(await stream.finishReason).toBe("stop");
    expect(object).toEqual(JSON.parse(await completeChoice(exchange)));
    expect(Ticket.parse(object)).toEqual(object);
    expectValidAgainst(sentSchema(exchange), object);
    expect(partials.length).toBeGreaterThan(1);
    expect(partials.at(-1)).toEqual(object);

    const generated = await generateObject({ model: structured(server.model), schema: Ticket, ...settings });
    await completeChoice(recorder.take());
    expect(generated.object).toEqual(object);
  });

  it("without supportsStructuredOutputs the SDK sends json_object: a JSON object comes back, and the SDK alone checks the schema", async () => {
    const loose = await generateObject({ model: jsonOnly(server.model), schema: AnyJsonObject, ...settings });
    const looseExchange = recorder.take();
    expect(looseExchange.request.response_format).toEqual({ type: "json_object" });
    expect(loose.finishReason).toBe("stop");
    expect(loose.object).toEqual(JSON.parse(await completeChoice(looseExchange)));
    expect(loose.warnings).toEqual([expect.objectContaining({ type: "unsupported", feature: "responseFormat" })]);

    // The same request with the ticket schema: the server's answer is a JSON object all the same; it
    // is the ticket only if the object happens to match, otherwise the SDK refuses it as a type error.
    const outcome = await generateObject({ model: jsonOnly(server.model), schema: Ticket, ...settings }).then(
      (r) => ({ object: r.object as unknown, error: null }),
      (e: unknown) => ({ object: null, error: e }),
    );
    const exchange = recorder.take();
    expect(exchange.request.response_format).toEqual({ type: "json_object" });
    const content = await completeChoice(exchange);
    const value = JSON.parse(content) as unknown;
    expect(AnyJsonObject.safeParse(value).success).toBe(true);
    if (Ticket.safeParse(value).success) {
      expect(outcome).toEqual({ object: value, error: null });
    } else {
      expect(NoObjectGeneratedError.isInstance(outcome.error)).toBe(true);
      const error = outcome.error as NoObjectGeneratedError;
      expect(error.text).toBe(content);
      expect(error.finishReason).toBe("stop");
      // It parsed; only the schema failed.
      expect(TypeValidationError.isInstance(error.cause)).toBe(true);
    }
  });

  it("an unsupported schema keyword is a non-retryable APICallError 400 naming its path, and the next request is served", async () => {
    const order = z.object({ quantity: z.number().multipleOf(5) });
    // Default maxRetries: a 400 must not be retried.
    const error = await generateObject({ model: structured(server.model), schema: order, prompt, maxOutputTokens: 20 }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(recorder.take().status).toBe(400);
    expect(recorder.exchanges).toHaveLength(0);
    expect(APICallError.isInstance(error)).toBe(true);
    const apiError = error as APICallError;
    expect(apiError.statusCode).toBe(400);
    expect(apiError.isRetryable).toBe(false);
    expect(JSON.parse(apiError.responseBody!)).toMatchObject({
      error: { param: "response_format.json_schema.schema.properties.quantity.multipleOf", code: "invalid_schema" },
    });

    const next = await generateObject({ model: structured(server.model), schema: Ticket, ...settings });
    await completeChoice(recorder.take());
    expect(Ticket.safeParse(next.object).success).toBe(true);
  });
});
