/** Builders for chat.completion and chat.completion.chunk objects. */
import type { TokenLogprob, Usage } from "../domain.ts";
import type {
  ChatCompletion,
  ChatCompletionChunk,
  ChatLogprobs,
  CollectedChoice,
  ResponseIdentity,
  StreamFormatter,
} from "./response-types.ts";
import { chunkBuilder, completionObject } from "./response-types.ts";
import { toWireLogprob } from "./wire-values.ts";

const chatLogprobs = (logprobs: TokenLogprob[] | null | undefined): ChatLogprobs | null =>
  logprobs == null ? null : { content: logprobs.map(toWireLogprob), refusal: null };

export function buildChatCompletion(identity: ResponseIdentity, choices: CollectedChoice[], usage: Usage): ChatCompletion {
  const out: ChatCompletion["choices"] = choices.map((c) => ({
    index: c.index,
    message: { role: "assistant", content: c.text, refusal: null },
    logprobs: chatLogprobs(c.logprobs),
    finish_reason: c.finishReason,
  }));
  return completionObject(identity, "chat.completion", out, usage);
}

/**
 * Chunks for one streamed chat response. Every chunk carries the same id,
 * created and model; with include_usage every chunk has `usage: null` except
 * the final usage chunk, as OpenAI does.
 */
export function chatStreamFormatter(
  identity: ResponseIdentity,
  options: { includeUsage: boolean },
): StreamFormatter<ChatCompletionChunk> {
  const chunk = chunkBuilder<"chat.completion.chunk", ChatCompletionChunk["choices"][number]>(
    identity,
    "chat.completion.chunk",
    options.includeUsage,
  );
  return {
    opening: (n) =>
      Array.from({ length: n }, (_, index) =>
        chunk([{ index, delta: { role: "assistant", content: "" }, logprobs: null, finish_reason: null }]),
      ),
    delta: (event) =>
      chunk([{ index: event.index, delta: { content: event.text }, logprobs: chatLogprobs(event.logprobs), finish_reason: null }]),
    finish: (event) => chunk([{ index: event.index, delta: {}, logprobs: null, finish_reason: event.finishReason }]),
    usage: (usage) => chunk([], usage),
  };
}
