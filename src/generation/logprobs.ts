/**
 * Log-probabilities of the model's own distribution (raw logits, before any
 * penalty, bias or temperature), as OpenAI and vLLM report them. Tokens a
 * row could never draw (masked to -Infinity by structured output, or a
 * model's NaN) are not alternatives: the top list can be shorter than asked.
 */
import { kthLargest } from "./logits-processors.ts";

export interface TokenLogprobs {
  logprob: number;
  top: Array<{ id: number; logprob: number }>;
}

export function logSumExp(logits: Float32Array): number {
  let max = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < logits.length; i++) if (logits[i] > max) max = logits[i];
  let sum = 0;
  for (let i = 0; i < logits.length; i++) sum += Math.exp(logits[i] - max);
  return max + Math.log(sum);
}

export function tokenLogprobs(rawLogits: Float32Array, chosen: number, topCount: number): TokenLogprobs {
  const lse = logSumExp(rawLogits);
  const top: Array<{ id: number; logprob: number }> = [];
  if (topCount > 0) {
    const threshold = kthLargest(rawLogits, Math.min(topCount, rawLogits.length));
    for (let i = 0; i < rawLogits.length; i++) {
      if (rawLogits[i] >= threshold && rawLogits[i] !== Number.NEGATIVE_INFINITY) top.push({ id: i, logprob: rawLogits[i] - lse });
    }
    // By the logit itself: logits a few ulps apart can share one logprob once lse is subtracted.
    top.sort((a, b) => rawLogits[b.id] - rawLogits[a.id] || a.id - b.id);
    top.length = Math.min(top.length, topCount);
  }
  return { logprob: rawLogits[chosen] - lse, top };
}
