/**
 * The requests of the constrained-stream section: the same chat prompt as
 * free text or as a json_schema value, and a runner for a fixed set of
 * streams with at most N in flight, bounded in time.
 *
 * Both kinds run to exactly max_tokens so their tokens/s compare like for
 * like: EOS is biased away from the free text, and the schema's one string
 * must hold 64 characters per token of max_tokens, more than any token
 * spells, so the value cannot complete first. Each constrained request gets
 * a schema never sent before (the property is named after a counter): the
 * worker then compiles a new grammar with an empty mask cache. The string's
 * length is part of the matcher's state, but while it is further than one
 * token from both bounds its states share one cached mask (maskClass), so
 * the walks are the first steps of each request and a few near the end.
 */
import { streamChat, type ChatSpec } from "./chat-client.ts";
import type { StreamTiming } from "./completion-client.ts";

const MESSAGES: ChatSpec["messages"] = [{ role: "user", content: "Write a long story about a lighthouse keeper who talks to the sea." }];
/** Characters of the constrained string per token of max_tokens: no token of the bench vocabularies is this long. */
const CHARS_PER_TOKEN = 64;

let schemasSent = 0;

export interface StreamKinds {
  free: () => ChatSpec;
  constrained: () => ChatSpec;
}

export function streamKinds(baseUrl: string, model: string, maxTokens: number, eosIds: readonly number[]): StreamKinds {
  const base = { baseUrl, model, messages: MESSAGES, maxTokens, logitBias: Object.fromEntries(eosIds.map((id) => [String(id), -100])) };
  const length = CHARS_PER_TOKEN * maxTokens;
  return {
    free: () => base,
    constrained: () => {
      const key = `text_${schemasSent++}`;
      const schema = {
        type: "object",
        properties: { [key]: { type: "string", minLength: length, maxLength: length } },
        required: [key],
        additionalProperties: false,
      };
      return { ...base, responseFormat: { type: "json_schema", json_schema: { name: "story", strict: true, schema } } };
    },
  };
}

/** Runs every spec, at most `concurrency` at once, in order; fails past `timeoutMs`. */
export async function runChats(specs: ChatSpec[], concurrency: number, timeoutMs: number): Promise<StreamTiming[]> {
  const signal = AbortSignal.timeout(timeoutMs);
  const timings: StreamTiming[] = [];
  let next = 0;
  const client = async (): Promise<void> => {
    while (next < specs.length) {
      const index = next++;
      timings[index] = await streamChat({ ...specs[index], signal });
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, specs.length) }, client));
  return timings;
}
