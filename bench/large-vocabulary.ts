/**
 * A real-shaped byte-level BPE vocabulary of about 150,000 tokens (the size
 * of Qwen2's or o200k's), built offline and deterministically, for benches
 * of the constrained-decoding mask: its cost depends on how many tokens
 * there are and how their bytes branch, which the repository's own
 * vocabularies (411 real tokens) cannot show.
 *
 * It starts from the real byte-level tokens in the repository (all 256 single
 * bytes and the BPE merges of models/tiny-chat; the SmolLM2-shape cache
 * folder, when present, holds the same real tokens plus `<reserved_N>`
 * placeholders, which are left out because no real vocabulary looks like
 * them, so the result is the same with or without the cache). It then adds
 * synthetic tokens drawn with a seeded PRNG in the proportions of large
 * multilingual vocabularies: space-prefixed words and word pieces sharing
 * stems, code fragments, numbers, punctuation and whitespace runs, CJK,
 * Cyrillic, accented Latin and other scripts, and the partial UTF-8
 * characters that byte-level merges produce. Every token is distinct.
 */
import { existsSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { byteLevelAlphabet, tokenBytesFromTokenizerJson, type TokenBytes } from "../src/generation/constraint/token-bytes.ts";
import { mulberry32 } from "./rng.ts";

const REPO_ROOT = fileURLToPath(new URL("..", import.meta.url));
const SOURCES = ["models/.cache/smollm2-135m-shape/tokenizer.json", "models/tiny-chat/tokenizer.json"];
const SEED = 0x5eed_150c;
const PLACEHOLDER = /^<reserved_\d+>$/;

/** The vocabulary as a TokenBytes table: ids 0..size-1, every entry non-null. */
export function largeVocabularyTable(size = 150_000): TokenBytes {
  const tokens = largeVocabularyBytes(size);
  const singleByte = new Uint8Array(256);
  for (const bytes of tokens) if (bytes.length === 1) singleByte[bytes[0]] = 1;
  return { bytes: tokens, singleByte };
}

/**
 * A minimal tokenizer.json object for the same vocabulary (ByteLevel BPE
 * with no merges: enough for tokenBytesFromTokenizerJson and for decoding,
 * not a tokenizer that encodes text into these tokens).
 */
export function largeVocabularyTokenizerJson(size = 150_000): Record<string, unknown> {
  const vocab: Record<string, number> = {};
  largeVocabularyBytes(size).forEach((bytes, id) => {
    let text = "";
    for (const byte of bytes) text += byteLevelAlphabet[byte];
    vocab[text] = id;
  });
  const byteLevel = { type: "ByteLevel", add_prefix_space: false, trim_offsets: true, use_regex: true };
  return {
    version: "1.0",
    added_tokens: [],
    normalizer: null,
    pre_tokenizer: byteLevel,
    post_processor: null,
    decoder: byteLevel,
    model: { type: "BPE", vocab, merges: [] },
  };
}

function largeVocabularyBytes(size: number): Uint8Array[] {
  if (!Number.isInteger(size) || size < 256) throw new RangeError(`a byte-level vocabulary holds every single byte: size must be an integer >= 256, got ${size}`);
  const random = mulberry32(SEED);
  const vocabulary = new DistinctTokens(size, random);
  for (const bytes of realTokens()) vocabulary.add(bytes);
  for (const text of enumeratedTokens()) vocabulary.add(utf8.encode(text));
  const draw = categoryDrawer(random);
  let attempts = 0;
  while (!vocabulary.full) {
    if (++attempts > size * 50) throw new Error(`large vocabulary: only ${vocabulary.tokens.length} distinct tokens after ${attempts} draws`);
    vocabulary.addWithLeftParts(draw());
  }
  return vocabulary.tokens;
}

const utf8 = new TextEncoder();

/** Keeps the first `capacity` distinct byte strings it is given. */
class DistinctTokens {
  readonly tokens: Uint8Array[] = [];
  private readonly seen = new Set<string>();
  constructor(
    private readonly capacity: number,
    private readonly random: Random,
  ) {}

  get full(): boolean {
    return this.tokens.length >= this.capacity;
  }

  /** True when the token is new (and there was room for it). */
  add(bytes: Uint8Array): boolean {
    if (this.full || bytes.length === 0) return false;
    // Latin-1 maps each byte to one character: a cheap, exact key for the byte string.
    const key = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("latin1");
    if (this.seen.has(key)) return false;
    this.seen.add(key);
    this.tokens.push(bytes);
    return true;
  }

  /**
   * Adds a token the way BPE grows one: as the merge of a left part that is
   * itself a token, recursively down to single bytes. Without these left
   * parts the trie would be much sparser than a real vocabulary's (about 2
   * nodes per token: GPT-2 1.95, the Llama fixture 1.8). Splits fall on character boundaries
   * most of the time, as merges of frequent characters come first, but not
   * always: real byte-level vocabularies hold pieces of characters too.
   */
  addWithLeftParts(bytes: Uint8Array): void {
    let piece = bytes;
    while (piece.length > 1 && this.add(piece)) {
      const boundaries: number[] = [];
      for (let i = 1; i < piece.length; i++) if ((piece[i] & 0xc0) !== 0x80) boundaries.push(i);
      // The later of two random splits: left parts tend to be most of the token (" Braz" + "il"), as in real merges.
      const split = boundaries.length > 0 && this.random() < 0.85 ? Math.max(pick(this.random, boundaries), pick(this.random, boundaries)) : between(this.random, 1, piece.length - 1);
      piece = piece.subarray(0, split);
    }
  }
}

/** The real tokens of the first source present, in id order (single bytes first in both). */
function realTokens(): Uint8Array[] {
  const path = SOURCES.map((p) => resolve(REPO_ROOT, p)).find((p) => existsSync(p));
  if (!path) throw new Error(`large vocabulary: none of ${SOURCES.join(", ")} found`);
  const json = JSON.parse(readFileSync(path, "utf8")) as { model: { vocab: Record<string, number> }; added_tokens?: Array<{ id: number }> };
  const vocab = Object.fromEntries(Object.entries(json.model.vocab).filter(([token]) => !PLACEHOLDER.test(token)));
  const ids = [...Object.values(vocab), ...(json.added_tokens ?? []).map((t) => t.id)];
  const result = tokenBytesFromTokenizerJson({ ...json, model: { ...json.model, vocab } }, Math.max(...ids) + 1);
  if (!result.ok) throw new Error(`large vocabulary: ${path}: ${result.reason}`);
  return result.table.bytes.filter((b): b is Uint8Array => b !== null);
}

/** Tokens every large vocabulary has as a family: whitespace runs, indentation, numbers up to three digits. */
function* enumeratedTokens(): Generator<string> {
  for (let n = 1; n <= 64; n++) yield " ".repeat(n);
  for (let n = 1; n <= 16; n++) {
    yield "\n".repeat(n);
    yield "\t".repeat(n);
    yield "\r\n".repeat(Math.min(n, 4));
  }
  for (let n = 1; n <= 32; n++) {
    yield "\n" + " ".repeat(n);
    yield "\n\n" + " ".repeat(n);
  }
  for (let n = 1; n <= 8; n++) yield "\n" + "\t".repeat(n);
  for (const text of [" \n", "  \n", " \n\n", ".\n", ".\n\n", ",\n", ":\n", ";\n", "{\n", "}\n", "};\n", "},\n", ")\n", ");\n", "]\n", "\n}", "\n]", "\n)"]) yield text;
  for (let n = 0; n < 1000; n++) {
    yield String(n);
    yield " " + String(n);
  }
}

type Random = () => number;

const pick = <T>(random: Random, items: readonly T[]): T => items[Math.floor(random() * items.length)];
const between = (random: Random, low: number, high: number): number => low + Math.floor(random() * (high - low + 1));

/** Chooses among weighted makers; the weights are per cent of the synthetic tokens. */
function weighted(random: Random, makers: ReadonlyArray<readonly [number, () => string | Uint8Array]>): () => Uint8Array {
  const total = makers.reduce((sum, [weight]) => sum + weight, 0);
  return () => {
    let r = random() * total;
    for (const [weight, make] of makers) {
      r -= weight;
      if (r < 0) {
        const made = make();
        return typeof made === "string" ? utf8.encode(made) : made;
      }
    }
    const made = makers[makers.length - 1][1]();
    return typeof made === "string" ? utf8.encode(made) : made;
  };
}

/**
 * The mix of synthetic tokens. Proportions follow what large multilingual
 * byte-level vocabularies hold: about half English-like words and pieces,
 * a tenth code, a fifth CJK and other scripts, and the rest numbers,
 * punctuation and whitespace combinations.
 */
function categoryDrawer(random: Random): () => Uint8Array {
  const words = new WordMaker(random);
  const code = new CodeMaker(random, words);
  const scripts = new ScriptMaker(random);
  return weighted(random, [
    [38, () => " " + words.word()],
    [17, () => words.piece()],
    [4, () => words.shouted()],
    [9, () => code.fragment()],
    [3, () => punctuationRun(random)],
    [12, () => scripts.cjk()],
    [5, () => scripts.cyrillic()],
    [4, () => " " + words.accented()],
    [3, () => scripts.other()],
    [2, () => scripts.partialCharacter()],
    [2, () => numberish(random)],
    [1, () => whitespaceMix(random)],
  ]);
}

const ONSETS = ["", "", "b", "c", "d", "f", "g", "h", "j", "k", "l", "m", "n", "p", "r", "s", "t", "v", "w", "y", "z", "bl", "br", "ch", "cl", "cr", "dr", "fl", "fr", "gr", "pl", "pr", "sc", "sh", "sl", "sp", "st", "str", "th", "tr", "wh"];
const VOWELS = ["a", "e", "i", "o", "u", "a", "e", "i", "o", "ea", "ou", "io", "ai", "ee", "oo", "y"];
const CODAS = ["", "", "", "n", "r", "s", "t", "l", "m", "d", "ck", "ng", "nt", "st", "rt", "ll", "ss", "x", "ph", "nd"];
const SUFFIXES = ["", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "s", "s", "s", "ed", "ing", "er", "ers", "ly", "tion", "tions", "ment", "ness", "able", "al", "ity", "ive", "ous", "ism", "ist", "ize", "ized", "ful", "less"];
const ACCENTED = ["é", "è", "ê", "à", "â", "ç", "ô", "û", "ü", "ö", "ä", "ß", "ñ", "á", "í", "ó", "ú", "ã", "õ", "ø", "å", "ł", "ś", "ž", "č", "ř", "ı", "ğ", "ş"];

/** English-like words built from a fixed pool of stems, so that words share prefixes the way real ones do. */
class WordMaker {
  private readonly stems: string[] = [];

  constructor(private readonly random: Random) {
    for (let i = 0; i < 9000; i++) this.stems.push(this.syllables(random() < 0.55 ? 1 : 2));
  }

  private syllables(count: number): string {
    let text = "";
    for (let i = 0; i < count; i++) text += pick(this.random, ONSETS) + pick(this.random, VOWELS) + pick(this.random, CODAS);
    return text;
  }

  /** A whole word, capitalized about one time in six. */
  word(): string {
    const text = pick(this.random, this.stems) + pick(this.random, SUFFIXES);
    return this.random() < 0.17 ? text[0].toUpperCase() + text.slice(1) : text;
  }

  /** A word piece that continues a word: a stem's tail, a suffix, or a short syllable run. */
  piece(): string {
    const r = this.random();
    if (r < 0.4) {
      const stem = pick(this.random, this.stems);
      return stem.slice(between(this.random, 0, Math.max(0, stem.length - 2))) + pick(this.random, SUFFIXES);
    }
    if (r < 0.6) return pick(this.random, SUFFIXES) || this.syllables(1);
    return this.syllables(between(this.random, 1, 2));
  }

  /** Upper-case and CamelCase pieces: acronyms, class names. */
  shouted(): string {
    if (this.random() < 0.5) return (this.random() < 0.5 ? " " : "") + this.syllables(1).toUpperCase().slice(0, between(this.random, 2, 5));
    const capital = (s: string): string => (s ? s[0].toUpperCase() + s.slice(1) : s);
    return capital(this.word()) + capital(pick(this.random, this.stems));
  }

  /** A European word with one or two accented letters in place of plain ones. */
  accented(): string {
    let text = this.word();
    const swaps = between(this.random, 1, 2);
    for (let i = 0; i < swaps; i++) {
      const at = between(this.random, 0, text.length - 1);
      text = text.slice(0, at) + pick(this.random, ACCENTED) + text.slice(at + 1);
    }
    return text;
  }
}

const CODE_ATOMS = ["_", "__", "()", "();", "():", "(", ")", "{", "}", "[", "]", "[]", "{}", "=>", "->", "::", ".", ",", ":", ";", "=", "==", "===", "!=", "+=", "-=", "&&", "||", "<", ">", "</", "/>", "'", "\"", "`", "$", "@", "#", "//", "/*", "*/", "\\n", "\\", "%", "%s", "0x", "*", "&", "|"];
const KEYWORDS = ["self", "this", "def", "return", "const", "let", "var", "if", "else", "elif", "for", "while", "import", "from", "class", "struct", "fn", "pub", "impl", "async", "await", "function", "null", "None", "true", "false", "int", "string", "std", "include", "public", "private", "static", "void", "new", "try", "catch", "except", "yield", "lambda", "println", "printf", "len", "range", "get", "set", "value", "key", "data", "name", "type", "args", "kwargs", "err", "ctx", "req", "res", "url", "id"];

/** Code-shaped fragments: keywords and identifiers glued to operators and brackets, snake_case and dotted names. */
class CodeMaker {
  constructor(
    private readonly random: Random,
    private readonly words: WordMaker,
  ) {}

  fragment(): string {
    const r = this.random();
    const lead = pick(this.random, ["", "", " ", ".", "_", "\n", "\t", "    ", "(", "\""]);
    if (r < 0.3) return lead + pick(this.random, KEYWORDS) + pick(this.random, ["", "", ...CODE_ATOMS]);
    if (r < 0.55) return lead + this.identifier();
    if (r < 0.8) return lead + pick(this.random, CODE_ATOMS) + pick(this.random, ["", ...CODE_ATOMS]) + (this.random() < 0.3 ? pick(this.random, CODE_ATOMS) : "");
    return lead + pick(this.random, KEYWORDS) + pick(this.random, [".", "_", "::", "->", "("]) + this.words.piece();
  }

  private identifier(): string {
    const parts = between(this.random, 1, 3);
    const separator = this.random() < 0.5 ? "_" : "";
    let text = "";
    for (let i = 0; i < parts; i++) {
      const part = this.words.piece();
      text += i > 0 && separator === "" && part ? part[0].toUpperCase() + part.slice(1) : (i > 0 ? separator : "") + part;
    }
    return text;
  }
}

const PUNCTUATION = [".", ",", "!", "?", ":", ";", "'", "\"", "(", ")", "[", "]", "-", "—", "–", "…", "*", "/", "=", "#", "~", "_", "«", "»", "“", "”", "’", "、", "。", "，", "："];

/** Punctuation runs: quotes with commas, ellipses, and long rule lines ("-----", "=====", "*****"). */
function punctuationRun(random: Random): string {
  const lead = random() < 0.35 ? " " : "";
  if (random() < 0.25) return lead + pick(random, ["-", "=", "*", "#", "_", "~", "/", "."]).repeat(between(random, 2, 48));
  let text = "";
  const length = between(random, 1, 4);
  for (let i = 0; i < length; i++) text += pick(random, PUNCTUATION);
  return lead + text;
}

/** Numbers in the forms tokens take around digits: years, decimals, units, versions, percentages. */
function numberish(random: Random): string {
  const n = String(between(random, 0, 9999));
  return pick(random, ["", " ", "(", "$", "-", "."]) + n + pick(random, ["", ".", ",", "%", "px", "em", "ms", "s", "th", "st", ")", ".0", ".5", "k", "x", "]", ":"]);
}

/** Whitespace joined with an opening or closing symbol, the way code and prose break lines. */
function whitespaceMix(random: Random): string {
  const space = pick(random, [" ", "  ", "\n", "\n\n", "\t", "\n    ", "\n        ", "\r\n"]);
  const symbol = pick(random, ["(", "[", "{", "\"", "'", "<", "-", "*", "#", "//", "}", ")", "]", ">", "|"]);
  return random() < 0.5 ? space + symbol : symbol + space;
}

/** Characters of one script: [first code point, count]. */
type Block = readonly [number, number];

const COMMON_CJK: Block = [0x4e00, 3500];
const RARE_CJK: Block = [0x4e00 + 3500, 20992 - 3500];
const KANA: Block = [0x3041, 0x96];
const HANGUL: Block = [0xac00, 2350];
const CYRILLIC_LOWER: Block = [0x0430, 32];
const OTHER_SCRIPTS: readonly Block[] = [
  [0x03b1, 25], // Greek
  [0x0627, 26], // Arabic
  [0x05d0, 27], // Hebrew
  [0x0905, 48], // Devanagari
  [0x0e01, 46], // Thai
  HANGUL,
  KANA,
];
const EMOJI: Block = [0x1f300, 0x250];

/** Tokens in non-Latin scripts: CJK words, Cyrillic words and other scripts' syllables. */
class ScriptMaker {
  constructor(private readonly random: Random) {}

  private char(block: Block): string {
    return String.fromCodePoint(block[0] + Math.floor(this.random() * block[1]));
  }

  private run(block: Block, low: number, high: number): string {
    let text = "";
    const length = between(this.random, low, high);
    for (let i = 0; i < length; i++) text += this.char(block);
    return text;
  }

  /** Mostly one or two common characters, as in Qwen-style vocabularies; some kana and rarer characters. */
  cjk(): string {
    const r = this.random();
    if (r < 0.7) return this.run(COMMON_CJK, 1, this.random() < 0.6 ? 2 : 4);
    if (r < 0.85) return this.run(KANA, 1, 4);
    return this.run(RARE_CJK, 1, 2);
  }

  cyrillic(): string {
    const word = this.run(CYRILLIC_LOWER, 2, 10);
    const r = this.random();
    if (r < 0.55) return " " + word;
    if (r < 0.65) return " " + word[0].toUpperCase() + word.slice(1);
    return word.slice(0, between(this.random, 1, word.length));
  }

  other(): string {
    if (this.random() < 0.15) return this.char(EMOJI);
    return (this.random() < 0.5 ? " " : "") + this.run(pick(this.random, OTHER_SCRIPTS), 1, 4);
  }

  /**
   * Byte-level merges also produce pieces of characters: the first two bytes
   * of a CJK character or an emoji, or its last bytes, which only make text
   * together with a neighbouring token.
   */
  partialCharacter(): Uint8Array {
    const whole = utf8.encode(this.random() < 0.7 ? this.char(COMMON_CJK) : this.char(EMOJI));
    const cut = between(this.random, 1, whole.length - 1);
    const head = this.random() < 0.6;
    const piece = head ? whole.slice(0, cut) : whole.slice(cut);
    return piece.length >= 2 || !head ? piece : whole.slice(0, 2);
  }
}
