/**
 * The page's reading of a streamed chat completion
 * (src/playground/chat-stream.js), under Node: content, finish reason and
 * usage in order; an error event; a stream that breaks before [DONE].
 */
import { describe, expect, it } from "vitest";
import { ApiError } from "../../src/playground/api-error.js";
import { chatStreamEvents, type ChatStreamEvent } from "../../src/playground/chat-stream.js";

/** A response body that delivers `text` in pieces of `size` bytes. */
function body(text: string, size = 7): ReadableStream<Uint8Array> {
  const all = new TextEncoder().encode(text);
  let at = 0;
  return new ReadableStream({
    pull(controller) {
      if (at >= all.length) controller.close();
      else controller.enqueue(all.subarray(at, (at += size)));
    },
  });
}

const sse = (...events: unknown[]): string => events.map((e) => `data: ${typeof e === "string" ? e : JSON.stringify(e)}\n\n`).join("");
const chunk = (delta: object, finishReason: string | null = null, usage: object | null = null): object => ({
  id: "chatcmpl-1",
  object: "chat.completion.chunk",
  choices: usage ? [] : [{ index: 0, delta, logprobs: null, finish_reason: finishReason }],
  usage,
});
const USAGE = { prompt_tokens: 9, completion_tokens: 3, total_tokens: 12 };

async function collect(stream: ReadableStream<Uint8Array>): Promise<ChatStreamEvent[]> {
  const events: ChatStreamEvent[] = [];
  for await (const event of chatStreamEvents(stream)) events.push(event);
  return events;
}

describe("chatStreamEvents", () => {
  it("yields the text, the finish reason and the usage, skipping the empty role chunk", async () => {
    const stream = sse(
      chunk({ role: "assistant", content: "" }),
      chunk({ content: "你好" }),
      chunk({ content: "！🙂" }),
      chunk({}, "cancelled"),
      chunk({}, null, USAGE),
      "[DONE]",
    );
    expect(await collect(body(stream))).toEqual([
      { kind: "content", text: "你好" },
      { kind: "content", text: "！🙂" },
      { kind: "finish", reason: "cancelled" },
      { kind: "usage", usage: USAGE },
    ]);
  });

  it("throws the server's error event as an ApiError", async () => {
    const stream = sse(chunk({ content: "a" }), { error: { message: "The model worker stopped.", type: "server_error", param: null, code: "internal_error" } }, "[DONE]");
    const events: ChatStreamEvent[] = [];
    const failure = await (async () => {
      try {
        for await (const event of chatStreamEvents(body(stream))) events.push(event);
      } catch (error) {
        return error;
      }
      return null;
    })();
    expect(events).toEqual([{ kind: "content", text: "a" }]);
    expect(failure).toBeInstanceOf(ApiError);
    expect(failure).toMatchObject({ message: "The model worker stopped.", code: "internal_error", status: null });
  });

  it("throws when the body ends before [DONE] (a broken connection)", async () => {
    await expect(collect(body(sse(chunk({ content: "a" }))))).rejects.toThrow(/closed before the answer was complete/);
  });
});
