/**
 * A streamed chat completion (docs/API.md "Streaming") as the events the
 * page shows: text as it comes, the finish reason, and the usage chunk
 * (sent because the page asks for `stream_options.include_usage`). Only
 * choice 0 is read: the page never sends `n`.
 */
import { ApiError, envelopeError } from "./api-error.js";
import { SseParser } from "./sse-parser.js";

/**
 * @typedef {{ prompt_tokens: number, completion_tokens: number, total_tokens: number }} Usage
 * @typedef {{ kind: "content", text: string } | { kind: "finish", reason: string } | { kind: "usage", usage: Usage }} ChatStreamEvent
 */

/**
 * @param {ReadableStream<Uint8Array>} body the response body of a `"stream": true` request
 * @returns {AsyncGenerator<ChatStreamEvent, void, void>} ends after `[DONE]` and the end of the body
 * @throws {ApiError} for an error event in the stream
 * @throws {Error} when the body ends before `[DONE]` (a connection that broke)
 */
export async function* chatStreamEvents(body) {
  const reader = body.getReader();
  const parser = new SseParser();
  let sawDone = false;
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      for (const data of parser.push(value)) {
        if (sawDone) continue;
        if (data === "[DONE]") sawDone = true;
        else yield* eventsOfChunk(JSON.parse(data));
      }
    }
  } finally {
    reader.releaseLock();
  }
  if (!sawDone) throw new Error("The connection closed before the answer was complete.");
}

/**
 * @param {unknown} chunk one parsed `chat.completion.chunk`, or an error event
 * @returns {Generator<ChatStreamEvent, void, void>}
 */
function* eventsOfChunk(chunk) {
  const error = envelopeError(chunk);
  if (error !== null) throw new ApiError(error.message, null, error.code);
  const { choices, usage } = /** @type {{ choices?: Array<{ delta?: { content?: string }, finish_reason?: string | null }>, usage?: Usage | null }} */ (chunk);
  const choice = choices?.[0];
  const text = choice?.delta?.content;
  if (typeof text === "string" && text !== "") yield { kind: "content", text };
  if (typeof choice?.finish_reason === "string") yield { kind: "finish", reason: choice.finish_reason };
  if (usage) yield { kind: "usage", usage };
}
