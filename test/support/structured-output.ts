/**
 * Shared pieces of the structured-output client tests
 * (test/e2e/structured-output-*.test.ts): the zod schema they ask for, a
 * fetch that records what each client really sent and got back, and the
 * reference validator (ajv) for the JSON Schema that went over the wire.
 */
import { Ajv, type AnySchema } from "ajv";
import { Ajv2020 } from "ajv/dist/2020.js";
import addFormats from "ajv-formats";
import { expect } from "vitest";
import { z } from "zod";

/**
 * A string with a max length, an integer with bounds, an enum, a nullable
 * field and an array with maxItems.
 *
 * Every value of it completes well inside TICKET_MAX_TOKENS, whatever the
 * model picks: compact JSON, each code point of a string at most 6 bytes
 * (a \uXXXX escape), an integer in 1..5 is one byte (the engine writes no
 * exponent or fraction for integers), and no token is shorter than a byte.
 * The longest text is 10 `{"title":"` + 8*6 + 13 `","priority":` + 1
 * + 11 `,"status":"` + 7 `blocked` + 13 `","assignee":` + (2 + 5*6)
 * + 11 `,"labels":[` + 2*(2 + 3*6) + 1 + 2 `]}` = 189 bytes, in any
 * property order. So a finish_reason "length" is a bug, never the budget.
 */
export const Ticket = z.object({
  title: z.string().max(8),
  priority: z.number().int().min(1).max(5),
  status: z.enum(["open", "closed", "blocked"]),
  assignee: z.string().max(5).nullable(),
  labels: z.array(z.string().max(3)).max(2),
});
export type Ticket = z.infer<typeof Ticket>;

/**
 * The same ticket whose assignee may be left out (a property outside
 * `required`): for the clients that accept `.optional()` (LangChain, AI
 * SDK; openai's strict helper refuses it). Same 189-byte bound.
 */
export const TicketOptionalAssignee = Ticket.extend({ assignee: z.string().max(5).optional() });

/** Prompt (about 40 tokens) + 200 stays far inside tiny-chat's 512-token context. */
export const TICKET_MAX_TOKENS = 200;

/** What `response_format: {type: "json_object"}` guarantees, as a zod schema: any JSON object. */
export const AnyJsonObject = z.record(z.string(), z.json());

export interface Exchange {
  url: string;
  /** The JSON body the client sent. */
  request: Record<string, unknown>;
  status: number;
  /** The whole response body (JSON or SSE), read alongside the client. */
  text: Promise<string>;
}

export interface Recorder {
  fetch: typeof fetch;
  exchanges: Exchange[];
  /** The only exchange since the last `take()`, removed from the list: fails when the client sent none or several. */
  take(): Exchange;
  /** Forgets every exchange (each test starts from none). */
  clear(): void;
}

/**
 * A fetch for the clients' own `fetch` option: it forwards to the global
 * fetch and keeps each request body and a copy (tee) of each response body,
 * so a test can check what went over the wire without changing what the
 * client sees.
 */
export function recordingFetch(): Recorder {
  const exchanges: Exchange[] = [];
  const recording: typeof fetch = async (input, init) => {
    const url = input instanceof Request ? input.url : String(input);
    if (typeof init?.body !== "string") throw new Error(`recordingFetch: expected a JSON string body for ${url}`);
    const request = JSON.parse(init.body) as Record<string, unknown>;
    const res = await fetch(input, init);
    if (!res.body) {
      exchanges.push({ url, request, status: res.status, text: Promise.resolve("") });
      return res;
    }
    const [mine, theirs] = res.body.tee();
    exchanges.push({ url, request, status: res.status, text: new Response(mine).text() });
    return new Response(theirs, { status: res.status, statusText: res.statusText, headers: res.headers });
  };
  return {
    fetch: recording,
    exchanges,
    take() {
      expect(exchanges.map((e) => e.url)).toHaveLength(1);
      return exchanges.shift()!;
    },
    clear() {
      exchanges.length = 0;
    },
  };
}

export interface WireChoice {
  content: string;
  finishReason: string | null;
}

/** The choices of a chat completion as the server sent them, non-streamed (JSON) or streamed (SSE deltas joined). */
export async function wireChoices(exchange: Exchange): Promise<WireChoice[]> {
  const text = await exchange.text;
  expect(exchange.status, text).toBe(200);
  if (!text.startsWith("data: ")) {
    const body = JSON.parse(text) as { choices: Array<{ message: { content: string }; finish_reason: string }> };
    return body.choices.map((c) => ({ content: c.message.content, finishReason: c.finish_reason }));
  }
  const choices: WireChoice[] = [];
  const frames = text.split("\n\n").filter((f) => f.length > 0);
  expect(frames.at(-1)).toBe("data: [DONE]");
  for (const frame of frames.slice(0, -1)) {
    const chunk = JSON.parse(frame.slice("data: ".length)) as {
      choices: Array<{ index: number; delta: { content?: string }; finish_reason: string | null }>;
    };
    for (const c of chunk.choices) {
      const choice = (choices[c.index] ??= { content: "", finishReason: null });
      choice.content += c.delta.content ?? "";
      choice.finishReason = c.finish_reason ?? choice.finishReason;
    }
  }
  return choices;
}

/**
 * The one choice of the exchange, which must have ended because the JSON
 * value was complete. A "length" here means the schema's bound or the
 * engine is wrong (see Ticket), and the test says so.
 */
export async function completeChoice(exchange: Exchange): Promise<string> {
  const choices = await wireChoices(exchange);
  expect(choices).toHaveLength(1);
  expect(choices[0].finishReason, `the value did not complete: ${choices[0].content}`).toBe("stop");
  return choices[0].content;
}

const ajv07 = new Ajv({ strict: false });
const ajv2020 = new Ajv2020({ strict: false });
addFormats.default(ajv07);
addFormats.default(ajv2020);

/** The JSON Schema the client put in `response_format` (json_schema). */
export function sentSchema(exchange: Exchange): Record<string, unknown> {
  const format = exchange.request.response_format as { type: string; json_schema: { schema: Record<string, unknown> } };
  expect(format.type).toBe("json_schema");
  return format.json_schema.schema;
}

/** ajv's verdict on `value` against the schema exactly as sent, in the draft its `$schema` names. */
export function expectValidAgainst(schema: Record<string, unknown>, value: unknown): void {
  const draft07 = typeof schema.$schema === "string" && schema.$schema.includes("draft-07");
  const validate = (draft07 ? ajv07 : ajv2020).compile(schema as AnySchema);
  expect(validate(value), JSON.stringify(validate.errors)).toBe(true);
}
