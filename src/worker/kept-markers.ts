/**
 * Tool-call markers that a tokenizer makes special tokens (Mistral's
 * `[TOOL_CALLS]`, Llama 3.1's `<|python_tag|>`, `<tool_call>` in some
 * Hermes tokenizers). Text is decoded skipping special tokens, which would
 * hide a call's marker from the parser, and the constraint table gives
 * special tokens no bytes, which would hide it from the tool_choice auto
 * trigger. A row that reads tool calls keeps its format's markers: their
 * text in the row's decode, their bytes for its trigger. Other special
 * tokens stay hidden.
 */
import type { TokenTexts } from "./worker-row.ts";

/** Special tokens (those decoding skips) by their text, for the markers a row asks to keep. */
export class SpecialTokenIndex {
  private readonly idByText = new Map<string, number>();

  constructor(specialIds: Iterable<number>, textOf: (id: number) => string) {
    for (const id of specialIds) this.idByText.set(textOf(id), id);
  }

  /** The special tokens among these marker texts (empty when the tokenizer spells them as ordinary text). */
  kept(markers: readonly string[]): ReadonlyMap<number, string> {
    const kept = new Map<number, string>();
    for (const text of markers) {
      const id = this.idByText.get(text);
      if (id !== undefined) kept.set(id, text);
    }
    return kept;
  }
}

/** A row's texts that show the kept tokens: runs of other ids decode as before, kept ids as their text. */
export function textsKeeping(texts: TokenTexts, kept: ReadonlyMap<number, string>): TokenTexts {
  if (kept.size === 0) return texts;
  return {
    tokenText: (id) => texts.tokenText(id),
    decode: (ids) => {
      let out = "";
      let run: number[] = [];
      for (const id of ids) {
        const text = kept.get(id);
        if (text === undefined) {
          run.push(id);
          continue;
        }
        if (run.length > 0) out += texts.decode(run);
        run = [];
        out += text;
      }
      return run.length > 0 ? out + texts.decode(run) : out;
    },
  };
}

/** The kept tokens' bytes, for a trigger that watches the row's text. */
export function keptBytes(kept: ReadonlyMap<number, string>): ReadonlyMap<number, Uint8Array> {
  const encoder = new TextEncoder();
  return new Map([...kept].map(([id, text]) => [id, encoder.encode(text)]));
}
