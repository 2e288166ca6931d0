/**
 * Turns a validated prompt into token ids. Chat prompts go through the
 * model's chat template and are encoded without the tokenizer's own special
 * tokens, as transformers' apply_chat_template does (the template writes BOS
 * itself when the model wants one). Text a user typed is always encoded as
 * plain text, so "<|im_end|>" in a message cannot end a turn.
 */
import { randomBytes } from "node:crypto";
import { invalidRequest } from "../errors.ts";
import type { ChatMessage, PromptInput } from "../engine/types.ts";
import type { ChatTemplate } from "./chat-template.ts";
import type { LoadedTokenizer } from "./tokenizer.ts";

export class PromptEncoder {
  constructor(
    private readonly tokenizer: LoadedTokenizer,
    private readonly template: ChatTemplate | null,
    /** Rows of the embedding table: ids at or past it would crash the model. */
    private readonly modelVocabSize: number,
  ) {}

  encode(prompt: PromptInput): number[] {
    switch (prompt.kind) {
      case "tokens":
        return this.checkIds(prompt.ids);
      case "text":
        return this.tokenizer.plain.encode(prompt.text, { add_special_tokens: true }).ids;
      case "chat":
        return this.encodeChat(prompt.messages);
    }
  }

  private checkIds(ids: number[]): number[] {
    ids.forEach((id, i) => {
      if (!Number.isInteger(id) || id < 0 || id >= this.modelVocabSize) {
        throw invalidRequest(`Token id ${id} is outside the vocabulary [0, ${this.modelVocabSize}).`, `prompt[${i}]`);
      }
    });
    return ids;
  }

  private encodeChat(messages: ChatMessage[]): number[] {
    if (!this.template) {
      throw invalidRequest("This model has no chat template; use /v1/completions with a text prompt.", "messages");
    }
    const typedSpecial = messages.some((m) => this.tokenizer.specialTexts.some((s) => m.content.includes(s)));
    if (!typedSpecial) {
      return this.tokenizer.full.encode(this.template.render(messages), { add_special_tokens: false }).ids;
    }
    // Render with each message's content fenced by unguessable markers, then
    // encode template text and user text with different tokenizers.
    const fence = `\u0000${randomBytes(8).toString("hex")}\u0000`;
    const fenced = messages.map((m) => ({ ...m, content: `${fence}${m.content}${fence}` }));
    const parts = this.template.render(fenced).split(fence);
    if (parts.length % 2 === 0) {
      throw invalidRequest("The model's chat template altered message content in a way that cannot be tokenized safely.", "messages");
    }
    return parts.flatMap((part, i) => {
      if (part.length === 0) return [];
      const tok = i % 2 === 1 ? this.tokenizer.plain : this.tokenizer.full;
      return tok.encode(part, { add_special_tokens: false }).ids;
    });
  }
}
