/**
 * Thinking tags: models such as Qwen3 and the DeepSeek-R1 distills write
 * their reasoning between <think> and </think> before the answer. Their
 * chat templates mention the closing tag (to strip reasoning from the
 * history, or to close an empty block when thinking is switched off), which
 * is how a template is recognised.
 */
export interface ReasoningTags {
  readonly open: string;
  readonly close: string;
}

export const THINK_TAGS: ReasoningTags = { open: "<think>", close: "</think>" };

/** The thinking tags a chat template uses, or null when its model does not think aloud. */
export function detectReasoningTags(templateSource: string | null): ReasoningTags | null {
  if (templateSource === null) return null;
  return templateSource.includes(THINK_TAGS.close) ? THINK_TAGS : null;
}

/**
 * Whether a rendered prompt leaves the model inside a thinking block: Qwen3
 * thinking variants and DeepSeek-R1 end the generation prompt with
 * "<think>\n", so the output starts with reasoning and never repeats the tag
 * (ReasoningStream's `startsInside`). A prompt ending with an empty closed
 * block (Qwen3 with enable_thinking false) does not.
 */
export function promptOpensReasoning(prompt: string, tags: ReasoningTags): boolean {
  return prompt.trimEnd().endsWith(tags.open);
}
