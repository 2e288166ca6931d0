/**
 * The server's usage and logprob values in OpenAI's wire shape: snake_case
 * names, and each token's UTF-8 bytes beside its text (a token that is part
 * of a multi-byte character has text that alone is not what its bytes are).
 */
import type { TokenLogprob, TopLogprob, Usage } from "../domain.ts";

export interface WireUsage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
}

export interface WireTopLogprob {
  token: string;
  logprob: number;
  bytes: number[];
}

export interface WireTokenLogprob extends WireTopLogprob {
  top_logprobs: WireTopLogprob[];
}

export const toWireUsage = (usage: Usage): WireUsage => ({
  prompt_tokens: usage.promptTokens,
  completion_tokens: usage.completionTokens,
  total_tokens: usage.totalTokens,
});

const toWireTop = (t: TopLogprob): WireTopLogprob => ({ token: t.token, logprob: t.logprob, bytes: [...Buffer.from(t.token, "utf8")] });

export const toWireLogprob = (lp: TokenLogprob): WireTokenLogprob => ({ ...toWireTop(lp), top_logprobs: lp.top.map(toWireTop) });
