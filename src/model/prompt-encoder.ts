/**
 * Turns a validated prompt into token ids. Chat prompts go through the
 * model's chat template and are encoded without the tokenizer's own special
 * tokens, as transformers' apply_chat_template does (the template writes BOS
 * itself when the model wants one). Text a user typed is always encoded as
 * plain text, so "<|im_end|>" in a message cannot end a turn.
 */
import { randomBytes } from "node:crypto";
import { invalidRequest } from "../errors.ts";
import type { PromptInput } from "../domain.ts";
import type { ChatTemplate } from "./chat-template.ts";
import { mapStrings, someString } from "./json-strings.ts";
import { toTemplateInput, type TemplateInput } from "./template-input.ts";
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
        return this.encodeChat(toTemplateInput(prompt));
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

  private encodeChat(input: TemplateInput): number[] {
    const template = this.template;
    if (!template) {
      throw invalidRequest("This model has no chat template; use /v1/completions with a text prompt.", "messages");
    }
    const render = (view: TemplateInput): string => template.render(view.messages, { tools: view.tools, kwargs: view.kwargs });
    const specials = this.tokenizer.specialTexts;
    const looksSpecial = (s: string): boolean => specials.some((t) => t.length > 0 && s.includes(t));
    if (!someString(input, looksSpecial)) {
      return this.tokenizer.full.encode(render(input), { add_special_tokens: false }).ids;
    }
    // Render with each string the client wrote that holds special-token
    // text fenced by unguessable markers, so it can be told apart from the
    // template's text. The markers are ASCII that no filter a template
    // applies changes (case, JSON, HTML escaping), so they survive being
    // written with `tojson`, as tool arguments and schemas are.
    const fence = `~#${randomFenceDigits()}#~`;
    const fenced = mapStrings(input, (s) => (looksSpecial(s) ? `${fence}${s}${fence}` : s));
    const parts = render(fenced).split(fence);
    if (parts.length % 2 === 0) {
      throw invalidRequest("The model's chat template altered message content in a way that cannot be tokenized safely.", "messages");
    }
    // Encode as the full tokenizer encodes a plain render: the text between
    // two special tokens in one piece, so tokens still span the template/user
    // boundary ("user: " + "hello" is ":", " hello"; SentencePiece adds no
    // extra "▁"), except that special tokens count only in template text.
    const added = this.tokenizer.full.get_added_tokens_decoder();
    const ids: number[] = [];
    let run = "";
    let trimNext = false;
    const append = (text: string): void => {
      const piece = trimNext ? text.trimStart() : text;
      if (piece.length > 0) trimNext = false;
      run += piece;
    };
    parts.forEach((part, i) => {
      if (i % 2 === 1) return append(part);
      for (const piece of splitAtSpecials(part, this.tokenizer.specialTexts)) {
        const id = piece.special ? this.tokenizer.full.token_to_id(piece.text) : undefined;
        if (id === undefined) {
          append(piece.text);
          continue;
        }
        const token = added.get(id);
        if (token?.lstrip) run = run.trimEnd();
        if (run.length > 0) ids.push(...this.tokenizer.plain.encode(run, { add_special_tokens: false }).ids);
        ids.push(id);
        run = "";
        trimNext = token?.rstrip === true;
      }
    });
    if (run.length > 0) ids.push(...this.tokenizer.plain.encode(run, { add_special_tokens: false }).ids);
    return ids;
  }
}

/** 24 random decimal digits: a marker no client can guess, of characters no case or escaping filter changes. */
function randomFenceDigits(): string {
  return [...randomBytes(24)].map((b) => String(b % 10)).join("");
}

/** Splits text at the special tokens' texts (leftmost, then longest: `specials` is sorted longest first). */
function splitAtSpecials(text: string, specials: readonly string[]): Array<{ text: string; special: boolean }> {
  const out: Array<{ text: string; special: boolean }> = [];
  let start = 0;
  let i = 0;
  while (i < text.length) {
    const hit = specials.find((s) => s.length > 0 && text.startsWith(s, i));
    if (hit === undefined) {
      i++;
      continue;
    }
    if (i > start) out.push({ text: text.slice(start, i), special: false });
    out.push({ text: hit, special: true });
    i += hit.length;
    start = i;
  }
  if (start < text.length) out.push({ text: text.slice(start), special: false });
  return out;
}
