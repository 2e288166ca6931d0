/**
 * Loads tokenizer.json with @huggingface/tokenizers. Two instances are kept:
 * the full one (special tokens recognised in text) for templates and
 * decoding, and a "plain" one without special added tokens, so that text a
 * user typed — "<|im_end|>", "</s>" — is tokenized as ordinary text rather
 * than as control tokens.
 */
import { readFileSync } from "node:fs";
import { Tokenizer } from "@huggingface/tokenizers";
import { ModelLoadError } from "./model-load-error.ts";
import type { ModelFolder } from "./model-folder.ts";
import type { JsonObject } from "./json-file.ts";

interface AddedTokenJson {
  id: number;
  content: string;
  special?: boolean;
}

export interface LoadedTokenizer {
  full: Tokenizer;
  plain: Tokenizer;
  /** Contents of the special added tokens, longest first (for scanning user text). */
  specialTexts: string[];
  specialIds: Set<number>;
  /**
   * Ids that decoding with skip_special_tokens drops: the special added
   * tokens, and added tokens listed in tokenizer_config.json's
   * `additional_special_tokens` (the library treats those as special too).
   */
  skippedIds: Set<number>;
  /** One past the highest id the tokenizer knows. */
  size: number;
  /** Longest vocabulary entry in UTF-16 units: no token covers more text than this. */
  maxTokenChars: number;
}

// Pipeline stages that some exporters omit; the library requires the keys to exist.
const OPTIONAL_STAGES = ["normalizer", "pre_tokenizer", "post_processor", "decoder"] as const;

export function loadTokenizer(folder: ModelFolder): LoadedTokenizer {
  let json: JsonObject;
  try {
    json = JSON.parse(readFileSync(folder.tokenizerPath, "utf8")) as JsonObject;
  } catch (error) {
    throw new ModelLoadError(folder.tokenizerPath, `cannot read (${(error as Error).message})`);
  }
  for (const stage of OPTIONAL_STAGES) if (!(stage in json)) json[stage] = null;
  const added = (Array.isArray(json.added_tokens) ? json.added_tokens : []) as AddedTokenJson[];
  const special = added.filter((t) => t.special === true);
  const extra = folder.tokenizerConfig.additional_special_tokens;
  const listed = new Set(Array.isArray(extra) ? extra.filter((t): t is string => typeof t === "string") : []);
  try {
    const full = new Tokenizer(json, folder.tokenizerConfig);
    narrowByteLevelAddedTokens(full);
    const plain = new Tokenizer({ ...json, added_tokens: added.filter((t) => t.special !== true) }, folder.tokenizerConfig);
    const vocab = full.get_vocab(true);
    const size = Math.max(vocab.size, ...added.map((t) => t.id + 1));
    let maxTokenChars = 1;
    for (const token of vocab.keys()) maxTokenChars = Math.max(maxTokenChars, token.length);
    return {
      full,
      plain,
      specialTexts: special.map((t) => t.content).sort((a, b) => b.length - a.length),
      specialIds: new Set(special.map((t) => t.id)),
      skippedIds: new Set(added.filter((t) => t.special === true || listed.has(t.content)).map((t) => t.id)),
      size,
      maxTokenChars,
    };
  } catch (error) {
    throw new ModelLoadError(folder.tokenizerPath, `unsupported tokenizer (${(error as Error).message})`);
  }
}

/**
 * The library's ByteLevel decoder looks every token up in a linear list of
 * added tokens (to pass them through verbatim), which costs milliseconds per
 * token on vocabularies with tens of thousands of added tokens. Only added
 * tokens whose text the byte-level alphabet cannot express need that
 * treatment; for the others byte-decoding yields the same text. So the list
 * is narrowed to those. (A documented internal of @huggingface/tokenizers
 * 0.2: Tokenizer.decoder.added_tokens and ByteLevel's byte_decoder.)
 */
function narrowByteLevelAddedTokens(tokenizer: Tokenizer): void {
  const decoder = tokenizer.decoder as unknown as { added_tokens?: Array<{ content: string }>; byte_decoder?: Record<string, number> } | null;
  const alphabet = decoder?.byte_decoder;
  if (!decoder || !alphabet || !Array.isArray(decoder.added_tokens)) return;
  decoder.added_tokens = decoder.added_tokens.filter((t) => [...t.content].some((c) => alphabet[c] === undefined));
}
