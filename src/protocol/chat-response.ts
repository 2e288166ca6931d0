/** Builders for chat.completion and chat.completion.chunk objects. */
import type { TokenLogprob, Usage } from "../domain.ts";
import type {
  ChatCompletion,
  ChatCompletionChunk,
  ChatLogprobs,
  CollectedChoice,
  DeltaEvent,
  ResponseIdentity,
  StreamFormatter,
} from "./response-types.ts";
import { chunkBuilder, completionObject } from "./response-types.ts";
import { toWireLogprob } from "./wire-values.ts";

const chatLogprobs = (logprobs: TokenLogprob[] | null | undefined): ChatLogprobs | null =>
  logprobs == null ? null : { content: logprobs.map(toWireLogprob), refusal: null };

export function buildChatCompletion(identity: ResponseIdentity, choices: CollectedChoice[], usage: Usage): ChatCompletion {
  const out: ChatCompletion["choices"] = choices.map((c) => {
    const message: ChatCompletion["choices"][number]["message"] = {
      role: "assistant",
      content: c.toolCalls.length > 0 && c.text === "" ? null : c.text,
      refusal: null,
    };
    if (c.toolCalls.length > 0) {
      message.tool_calls = c.toolCalls.map((call) => ({ id: call.id, type: "function", function: { name: call.name, arguments: call.arguments } }));
    }
    if (c.reasoning !== "") message.reasoning_content = c.reasoning;
    return { index: c.index, message, logprobs: chatLogprobs(c.logprobs), finish_reason: c.finishReason };
  });
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
    delta: (event) => chunk([{ index: event.index, delta: chatDelta(event), logprobs: chatLogprobs(event.logprobs), finish_reason: null }]),
    finish: (event) => chunk([{ index: event.index, delta: {}, logprobs: null, finish_reason: event.finishReason }]),
    usage: (usage) => chunk([], usage),
  };
}

/** A delta's wire form: content as text; reasoning and tool-call pieces only when there are any. */
function chatDelta(event: DeltaEvent): ChatCompletionChunk["choices"][number]["delta"] {
  const delta: ChatCompletionChunk["choices"][number]["delta"] = {};
  const extras = event.reasoning !== undefined || event.toolCalls !== undefined;
  if (event.text !== "" || !extras) delta.content = event.text;
  if (event.reasoning !== undefined) delta.reasoning_content = event.reasoning;
  if (event.toolCalls !== undefined) {
    delta.tool_calls = event.toolCalls.map((piece) =>
      piece.id !== undefined && piece.name !== undefined
        ? { index: piece.index, id: piece.id, type: "function", function: { name: piece.name, arguments: piece.arguments } }
        : { index: piece.index, function: { arguments: piece.arguments } },
    );
  }
  return delta;
}
