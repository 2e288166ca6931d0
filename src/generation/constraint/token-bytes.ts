/**
 * What each token id adds to the text the client receives, as bytes: the
 * alphabet over which a grammar-constrained matcher advances.
 *
 * The server streams text as `full.decode(ids, { skip_special_tokens: true,
 * clean_up_tokenization_spaces: false })` in the context of the previous
 * tokens (detokenizer.ts, worker/row-stepper.ts). A table of per-token bytes
 * is only truthful when that decode is the plain concatenation of per-token
 * bytes, so this module accepts exactly the decoders where that holds and
 * refuses the others with a reason, rather than guessing:
 *
 * - ByteLevel (GPT-2 style BPE): each character of a token stands for one
 *   byte through a fixed table; the bytes of all tokens are concatenated and
 *   decoded as UTF-8 once.
 * - SentencePiece style: a Metaspace decoder, or a Sequence of
 *   Replace("▁" → " ") / ByteFallback / Fuse / Strip. A token is its text
 *   with "▁" replaced by a space; with ByteFallback a `<0xNN>` token is the
 *   single byte NN (consecutive byte tokens are decoded together, so a
 *   character may be split over several of them).
 *
 * Both kinds may drop or add a space at the very start of the whole text
 * (Metaspace strips the first token's leading space; Strip after Fuse
 * removes leading spaces of the joined text). That never touches generated
 * tokens in practice: they are decoded after the prompt, whose text comes
 * first, so the start of the whole text is prompt text. The one exception is
 * a prompt whose decoded text is empty (only special tokens, e.g. a bare
 * `<s>`): then the first generated token is at the start and loses one
 * leading space. A matcher that starts on empty text should account for it.
 *
 * The decoders that are refused (no decoder at all, WordPiece, BPEDecoder,
 * CTC, ByteLevel nested in a Sequence, replacements applied after byte
 * fallback, ...) insert separators between tokens or rewrite text across
 * token boundaries, so no per-token table can describe their output.
 */
import { asObject, type JsonObject } from "../../model/json-file.ts";

export interface TokenBytes {
  /**
   * Per id in [0, vocabSize): the token's bytes, or null when it may never
   * appear in constrained output (special/added control tokens, ids the
   * tokenizer does not know, empty tokens).
   */
  readonly bytes: ReadonlyArray<Uint8Array | null>;
  /** Per byte value 0..255: whether some token's bytes are exactly that single byte (1) or not (0). */
  readonly singleByte: Uint8Array;
}

export type TokenBytesResult = { ok: true; table: TokenBytes } | { ok: false; reason: string };

export interface TokenBytesOptions {
  /**
   * tokenizer_config.json's `additional_special_tokens` (the string
   * entries). The library treats their contents as special too, so
   * skip_special_tokens drops any token spelled that way from the text.
   */
  readonly additionalSpecialTokens?: readonly string[];
}

/**
 * The GPT-2 byte-to-unicode table: index = byte, value = the character a
 * ByteLevel vocabulary writes for it. Printable Latin-1 bytes ("!".."~",
 * "¡".."¬", "®".."ÿ") stand for themselves; the other 68 bytes (controls,
 * space, DEL, NBSP, soft hyphen) are mapped, in byte order, to U+0100 and up,
 * so every byte has a visible, non-whitespace character.
 */
export const byteLevelAlphabet: readonly string[] = (() => {
  const chars: string[] = new Array(256);
  let next = 0x100;
  for (let b = 0; b < 256; b++) {
    const printable = (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
    chars[b] = String.fromCharCode(printable ? b : next++);
  }
  return chars;
})();

/** Char code → byte for the ByteLevel alphabet, -1 for characters outside it. */
const BYTE_OF_CHAR_CODE: Int16Array = (() => {
  const table = new Int16Array(0x100 + 68).fill(-1);
  byteLevelAlphabet.forEach((char, byte) => (table[char.charCodeAt(0)] = byte));
  return table;
})();

const utf8 = new TextEncoder();
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Maps one token's text (vocabulary string or added-token content) to the bytes it adds, or null. */
type TokenDecoding = (text: string) => Uint8Array | null;

/** `json` is a parsed tokenizer.json; `vocabSize` is the width of the model's logits (it may differ from the tokenizer's size). */
export function tokenBytesFromTokenizerJson(json: unknown, vocabSize: number, options: TokenBytesOptions = {}): TokenBytesResult {
  if (!Number.isInteger(vocabSize) || vocabSize < 0) return { ok: false, reason: `vocabSize must be a non-negative integer, got ${vocabSize}` };
  const root = asObject(json);
  if (!root) return { ok: false, reason: "tokenizer.json is not a JSON object" };
  const model = asObject(root.model);
  if (!model) return { ok: false, reason: "tokenizer.json has no model" };
  // BPE models with an end-of-word suffix (CLIP's "</w>") get it replaced by
  // spaces over the whole decoded text, which is then trimmed.
  if (typeof model.end_of_word_suffix === "string" && model.end_of_word_suffix !== "") {
    return { ok: false, reason: `model.end_of_word_suffix "${model.end_of_word_suffix}" is replaced by spaces and the text trimmed on decode: not a concatenation of per-token bytes` };
  }
  const tokens = readTokenTexts(model, vocabSize);
  if (typeof tokens === "string") return { ok: false, reason: tokens };

  const special = new Set(options.additionalSpecialTokens ?? []);
  const addedContents = new Set<string>();
  for (const entry of Array.isArray(root.added_tokens) ? root.added_tokens : []) {
    const added = asObject(entry);
    if (!added || typeof added.content !== "string" || !Number.isInteger(added.id)) continue;
    const id = added.id as number;
    addedContents.add(added.content);
    if (added.special === true) special.add(added.content);
    // The library writes added tokens over the model's vocabulary at their id.
    if (id >= 0 && id < vocabSize) tokens.texts[id] = added.content;
  }

  const decoding = tokenDecoding(root.decoder, addedContents);
  if (typeof decoding === "string") return { ok: false, reason: decoding };

  const bytes: Array<Uint8Array | null> = new Array(vocabSize).fill(null);
  const singleByte = new Uint8Array(256);
  for (let id = 0; id < vocabSize; id++) {
    const text = tokens.texts[id];
    // Unknown ids decode as the unknown token, and special contents are
    // dropped by skip_special_tokens wherever they occur: neither is text.
    if (text === undefined || id === tokens.unkId || special.has(text) || LONE_SURROGATE.test(text)) continue;
    const tokenBytes = decoding(text);
    if (tokenBytes === null || tokenBytes.length === 0) continue;
    bytes[id] = tokenBytes;
    if (tokenBytes.length === 1) singleByte[tokenBytes[0]] = 1;
  }
  return { ok: true, table: { bytes, singleByte } };
}

interface TokenTexts {
  /** Per id below vocabSize: the model's string for it (added tokens are written over it later). */
  texts: Array<string | undefined>;
  unkId: number | null;
}

/** Reads the model's vocabulary, either `{ token: id }` (BPE, WordPiece, WordLevel) or `[[piece, score], ...]` (Unigram). */
function readTokenTexts(model: JsonObject, vocabSize: number): TokenTexts | string {
  const texts: Array<string | undefined> = new Array(vocabSize);
  if (Array.isArray(model.vocab)) {
    const count = Math.min(vocabSize, model.vocab.length);
    for (let id = 0; id < count; id++) {
      const entry: unknown = model.vocab[id];
      const piece = Array.isArray(entry) ? entry[0] : undefined;
      if (typeof piece === "string") texts[id] = piece;
    }
    const unkId = Number.isInteger(model.unk_id) ? (model.unk_id as number) : null;
    return { texts, unkId };
  }
  const vocab = asObject(model.vocab);
  if (!vocab) return "tokenizer.json's model has no vocab";
  // Later entries win for a repeated id, as in the library (it fills its id → token array in entry order).
  for (const [token, id] of Object.entries(vocab)) {
    if (typeof id === "number" && Number.isInteger(id) && id >= 0 && id < vocabSize) texts[id] = token;
  }
  const unk = model.unk_token;
  const unkId = typeof unk === "string" && Object.hasOwn(vocab, unk) && typeof vocab[unk] === "number" ? (vocab[unk] as number) : null;
  return { texts, unkId };
}

/** The per-token mapping for a supported decoder, or the reason it is not supported. */
function tokenDecoding(config: unknown, addedContents: ReadonlySet<string>): TokenDecoding | string {
  if (config === null || config === undefined) {
    return "tokenizer.json has no decoder: the library joins tokens with spaces on decode, so the text is not a concatenation of per-token bytes";
  }
  const decoder = asObject(config);
  if (!decoder) return "tokenizer.json's decoder is not an object";
  if (decoder.type === "ByteLevel") return byteLevelDecoding(addedContents);
  const steps = flattenSequence(decoder);
  return typeof steps === "string" ? steps : textDecoding(steps);
}

/**
 * ByteLevel, as the server's tokenizer decodes (tokenizer.ts narrows the
 * library's verbatim list, matching the Rust library): a token whose
 * characters are all in the alphabet is byte-decoded; an added token with
 * a character outside it (e.g. GPT-2's runs of real spaces) is passed
 * through verbatim, as its UTF-8. A vocabulary token with a character outside
 * the alphabet has no defined bytes (the JS library writes 0 for each such
 * character, the Rust one passes the token through): null.
 */
function byteLevelDecoding(addedContents: ReadonlySet<string>): TokenDecoding {
  return (text) => {
    const out = new Uint8Array(text.length);
    for (let i = 0; i < text.length; i++) {
      const code = text.charCodeAt(i);
      const byte = code < BYTE_OF_CHAR_CODE.length ? BYTE_OF_CHAR_CODE[code] : -1;
      if (byte < 0) return addedContents.has(text) ? utf8.encode(text) : null;
      out[i] = byte;
    }
    return out;
  };
}

/** One supported step of a SentencePiece-style decoder. */
type TextStep =
  | { kind: "replace"; pattern: string; content: string; decoderType: string }
  | { kind: "byte-fallback" }
  | { kind: "fuse" }
  | { kind: "strip"; start: number; stop: number };

/** A decoder (possibly a nested Sequence) as a flat list of steps, or the reason one step is not supported. */
function flattenSequence(decoder: JsonObject): TextStep[] | string {
  switch (decoder.type) {
    case "Sequence": {
      const steps: TextStep[] = [];
      for (const inner of Array.isArray(decoder.decoders) ? decoder.decoders : []) {
        const innerObject = asObject(inner);
        if (!innerObject) return "a Sequence decoder has an entry that is not an object";
        if (innerObject.type === "ByteLevel") return `decoder "ByteLevel" inside a Sequence is not supported (only as the whole decoder)`;
        const flat = flattenSequence(innerObject);
        if (typeof flat === "string") return flat;
        steps.push(...flat);
      }
      return steps;
    }
    case "Replace": {
      const pattern = asObject(decoder.pattern);
      if (!pattern || typeof pattern.String !== "string" || pattern.String === "") {
        return `decoder "Replace" with a ${pattern && "Regex" in pattern ? "regex" : "missing"} pattern is not supported: only a plain string pattern maps each token on its own`;
      }
      return [{ kind: "replace", pattern: pattern.String, content: typeof decoder.content === "string" ? decoder.content : "", decoderType: "Replace" }];
    }
    case "Metaspace": {
      // Its other effect, dropping the first token's leading space, only touches the start of the whole text (see the top).
      const replacement = typeof decoder.replacement === "string" ? decoder.replacement : "\u2581";
      if (replacement === "") return `decoder "Metaspace" with an empty replacement is not supported: it would put a space between every character`;
      return [{ kind: "replace", pattern: replacement, content: " ", decoderType: "Metaspace" }];
    }
    case "ByteFallback":
      return [{ kind: "byte-fallback" }];
    case "Fuse":
      return [{ kind: "fuse" }];
    case "Strip":
      return [{ kind: "strip", start: Number(decoder.start ?? 0) || 0, stop: Number(decoder.stop ?? 0) || 0 }];
    case "WordPiece":
      return `decoder "WordPiece" is not supported: it puts a space before every token without the "##" prefix, so the text is not a concatenation of per-token bytes`;
    case "BPEDecoder":
      return `decoder "BPEDecoder" is not supported: it turns the end-of-word suffix into a space except on the last token, so a token's text depends on what follows`;
    case "CTC":
      return `decoder "CTC" is not supported: it merges repeated tokens and drops pad tokens`;
    default:
      return `decoder "${String(decoder.type)}" is not supported: only ByteLevel and SentencePiece-style decoders (Metaspace, or a Sequence of Replace/ByteFallback/Fuse/Strip) decode to a concatenation of per-token bytes`;
  }
}

/**
 * Checks that a list of steps keeps the output a concatenation of per-token
 * bytes and compiles it into a per-token mapping. The library applies each
 * step to the whole list of token strings in turn: a Replace sees separate
 * tokens only until ByteFallback or Fuse regroups them.
 */
function textDecoding(steps: readonly TextStep[]): TokenDecoding | string {
  const replaces: Array<{ pattern: string; content: string }> = [];
  let byteFallback = false;
  let fused = false;
  for (const step of steps) {
    switch (step.kind) {
      case "replace":
        // After ByteFallback a replacement would also rewrite characters that byte tokens spell (▁ from <0xE2><0x96><0x81>).
        if (byteFallback) return `decoder "${step.decoderType}" after ByteFallback is not supported: it also rewrites text spelled by byte tokens`;
        // On joined text, a pattern longer than one UTF-16 unit can match across a token boundary.
        if (fused && step.pattern.length !== 1) return `decoder "${step.decoderType}" after Fuse with a multi-character pattern is not supported: it can match across token boundaries`;
        replaces.push({ pattern: step.pattern, content: step.content });
        break;
      case "byte-fallback":
        if (byteFallback || fused) return `decoder "ByteFallback" ${fused ? "after Fuse" : "twice"} is not supported`;
        byteFallback = true;
        break;
      case "fuse":
        fused = true;
        break;
      case "strip":
        if (step.stop > 0) return `decoder "Strip" with stop=${step.stop} is not supported: it cuts the end of the text, which moves with every token`;
        if (step.start > 0 && !fused) return `decoder "Strip" before Fuse is not supported: it cuts the start of every token`;
        // After Fuse, stripping the start touches only the start of the whole text (see the top).
        break;
    }
  }
  return (text) => {
    let piece = text;
    // replaceAll with a string pattern reads "$&"-style codes in `content` as the library's regex replace does.
    for (const { pattern, content } of replaces) piece = piece.replaceAll(pattern, content);
    if (byteFallback) {
      const byte = byteFallbackValue(piece);
      if (byte !== null) return Uint8Array.of(byte);
    }
    return utf8.encode(piece);
  };
}

/**
 * The byte a ByteFallback decoder reads from a `<0xNN>` token, exactly as the
 * library does: six characters, "<0x" … ">", and parseInt(NN, 16) not NaN,
 * stored through a Uint8Array (so the value is taken modulo 256).
 */
function byteFallbackValue(token: string): number | null {
  if (token.length !== 6 || !token.startsWith("<0x") || !token.endsWith(">")) return null;
  const value = parseInt(token.slice(3, 5), 16);
  return Number.isNaN(value) ? null : value & 0xff;
}
