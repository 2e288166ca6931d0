/** Builders for text_completion objects and their stream chunks. */
import type { TokenLogprob, Usage } from "../domain.ts";
import type {
  CollectedChoice,
  CompletionLogprobs,
  ResponseIdentity,
  StreamFormatter,
  TextCompletion,
} from "./response-types.ts";
import { chunkBuilder, completionObject } from "./response-types.ts";

/**
 * The legacy logprobs shape. Offsets continue from `startOffset` so streamed
 * chunks report positions within the whole choice text, not the chunk.
 * Object.fromEntries defines keys as own data properties, so a token spelled
 * "__proto__" is data, not a prototype change.
 */
export function toCompletionLogprobs(logprobs: TokenLogprob[], startOffset = 0): CompletionLogprobs {
  const out: CompletionLogprobs = { tokens: [], token_logprobs: [], top_logprobs: [], text_offset: [] };
  let offset = startOffset;
  for (const lp of logprobs) {
    out.tokens.push(lp.token);
    out.token_logprobs.push(lp.logprob);
    out.top_logprobs.push(Object.fromEntries(lp.top.map((t) => [t.token, t.logprob])));
    out.text_offset.push(offset);
    offset += lp.token.length;
  }
  return out;
}

export function buildTextCompletion(identity: ResponseIdentity, choices: CollectedChoice[], usage: Usage): TextCompletion {
  const out: TextCompletion["choices"] = choices.map((c) => ({
    index: c.index,
    text: c.text,
    logprobs: c.logprobs === null ? null : toCompletionLogprobs(c.logprobs),
    finish_reason: c.finishReason,
  }));
  return completionObject(identity, "text_completion", out, usage);
}

/** Chunks for one streamed text completion; there is no role chunk in this API. */
export function completionStreamFormatter(
  identity: ResponseIdentity,
  options: { includeUsage: boolean },
): StreamFormatter<TextCompletion> {
  const offsets = new Map<number, number>();
  const chunk = chunkBuilder<"text_completion", TextCompletion["choices"][number]>(identity, "text_completion", options.includeUsage);
  return {
    opening: () => [],
    delta: (event) => {
      let logprobs = null;
      if (event.logprobs !== undefined) {
        const start = offsets.get(event.index) ?? 0;
        logprobs = toCompletionLogprobs(event.logprobs, start);
        offsets.set(event.index, start + event.logprobs.reduce((sum, lp) => sum + lp.token.length, 0));
      }
      return chunk([{ index: event.index, text: event.text, logprobs, finish_reason: null }]);
    },
    finish: (event) => chunk([{ index: event.index, text: "", logprobs: null, finish_reason: event.finishReason }]),
    usage: (usage) => chunk([], usage),
  };
}
