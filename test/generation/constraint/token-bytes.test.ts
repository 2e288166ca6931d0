/**
 * tokenBytesFromTokenizerJson against the library: the bytes the table gives
 * for a run of tokens must be exactly the bytes the server's decode adds
 * after a prompt (tokenizer.full.decode with skip_special_tokens, the way
 * worker/row-stepper.ts calls it), and exactly what IncrementalDetokenizer
 * streams to the client. Compared byte for byte whenever the bytes are valid
 * UTF-8 (the library turns invalid UTF-8 into U+FFFD, so there only the
 * lossy decodes are compared).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { mulberry32 } from "../../../bench/rng.ts";
import { byteLevelAlphabet, tokenBytesFromTokenizerJson, type TokenBytes } from "../../../src/generation/constraint/token-bytes.ts";
import { IncrementalDetokenizer } from "../../../src/generation/detokenizer.ts";
import { loadModelFolder, type ModelFolder } from "../../../src/model/model-folder.ts";
import { loadTokenizer, type LoadedTokenizer } from "../../../src/model/tokenizer.ts";
import { defaultModelPath, fixturePath, haveFixtures } from "../../support/fixtures.ts";

const SERVER_DECODE = { skip_special_tokens: true, clean_up_tokenization_spaces: false };
const utf8 = new TextEncoder();
const strictUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
const lossyUtf8 = new TextDecoder("utf-8", { ignoreBOM: true });

function decode(tok: LoadedTokenizer, ids: number[]): string {
  return ids.length === 0 ? "" : tok.full.decode(ids, SERVER_DECODE);
}

function concat(parts: ReadonlyArray<Uint8Array | null>): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + (p?.length ?? 0), 0));
  let at = 0;
  for (const p of parts) if (p) (out.set(p, at), (at += p.length));
  return out;
}

function isValidUtf8(bytes: Uint8Array): boolean {
  try {
    strictUtf8.decode(bytes);
    return true;
  } catch {
    return false;
  }
}

function tableOf(json: unknown, vocabSize: number): TokenBytes {
  const result = tokenBytesFromTokenizerJson(json, vocabSize);
  if (!result.ok) throw new Error(result.reason);
  return result.table;
}

/** Runs of byte tokens that spell U+FEFF: the ByteFallback decoder's TextDecoder drops a BOM at the start of a run (a known gap). */
const BOM = /\xEF\xBB\xBF/;

/**
 * Checks that `text`, what the decode added, is `expected`: byte for byte
 * when `expected` is valid UTF-8, through the same lossy decode otherwise.
 * Returns whether the exact comparison was made.
 */
function expectAddedText(text: string, expected: Uint8Array, where: () => string): boolean {
  if (BOM.test(Buffer.from(expected).toString("latin1"))) return false;
  if (!isValidUtf8(expected)) {
    if (text !== lossyUtf8.decode(expected)) expect(text, where()).toBe(lossyUtf8.decode(expected));
    return false;
  }
  const actual = Buffer.from(utf8.encode(text));
  if (!actual.equals(expected)) expect(actual.toString("hex"), where()).toBe(Buffer.from(expected).toString("hex"));
  return true;
}

/**
 * Checks `ids` after `context` two ways: what the decode adds to the
 * context's text, and (for valid UTF-8) what IncrementalDetokenizer streams.
 * Returns whether the exact comparison was made.
 */
function checkRun(tok: LoadedTokenizer, table: TokenBytes, context: number[], ids: number[]): boolean {
  const before = decode(tok, context);
  const after = decode(tok, [...context, ...ids]);
  const where = (): string => `context ${JSON.stringify(context)} ids ${JSON.stringify(ids)}`;
  if (!after.startsWith(before)) expect(after, where()).toMatch(new RegExp(`^${before}`));
  const expected = concat(ids.map((id) => table.bytes[id]));
  if (!expectAddedText(after.slice(before.length), expected, where)) return false;
  const detokenizer = new IncrementalDetokenizer({ decode: (window) => decode(tok, window) }, context);
  expect(ids.map((id) => detokenizer.push(id)).join(""), where()).toBe(strictUtf8.decode(expected));
  return true;
}

function usableIds(table: TokenBytes): number[] {
  return table.bytes.flatMap((b, id) => (b ? [id] : []));
}

/** For each byte, the lowest id whose bytes are exactly that byte. */
function singleByteIds(table: TokenBytes): Map<number, number> {
  const ids = new Map<number, number>();
  table.bytes.forEach((b, id) => {
    if (b && b.length === 1 && !ids.has(b[0])) ids.set(b[0], id);
  });
  return ids;
}

const SPLIT_CHARS = ["é", "ß", "Ж", "你", "好", "€", "😀", "👍🏽", "\u0301"];

/**
 * Random runs of tokens after random contexts: uniform random ids (invalid
 * UTF-8 runs are checked lossily), and runs that interleave whole tokens
 * with characters spelled byte by byte through single-byte tokens, so that
 * characters split across tokens are checked exactly too.
 */
function checkRandomRuns(tok: LoadedTokenizer, table: TokenBytes, contexts: number[][], runs: number, seed: number): number {
  const random = mulberry32(seed);
  const ids = usableIds(table);
  const byByte = singleByteIds(table);
  const validAlone = ids.filter((id) => isValidUtf8(table.bytes[id] as Uint8Array));
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)];
  let exact = 0;
  for (let run = 0; run < runs; run++) {
    const sequence: number[] = [];
    const length = 1 + Math.floor(random() * 24);
    if (run % 2 === 0) {
      for (let i = 0; i < length; i++) sequence.push(pick(ids));
    } else {
      while (sequence.length < length) {
        const spelled = [...utf8.encode(pick(SPLIT_CHARS))].map((b) => byByte.get(b));
        if (random() < 0.3 && spelled.every((id) => id !== undefined)) sequence.push(...(spelled as number[]));
        else sequence.push(pick(validAlone));
      }
    }
    if (checkRun(tok, table, pick(contexts), sequence)) exact++;
  }
  return exact;
}

/**
 * Every usable id alone after a context adds its bytes; every null id below
 * `tokenizerSize` adds no text, except `renderedNulls` (tokens the table
 * refuses although the library prints something for them).
 */
function checkEveryId(tok: LoadedTokenizer, table: TokenBytes, context: number[], tokenizerSize: number, renderedNulls: ReadonlySet<number> = new Set()): void {
  const before = decode(tok, context);
  for (let id = 0; id < table.bytes.length; id++) {
    const after = decode(tok, [...context, id]);
    const where = (): string => `id ${id} after ${JSON.stringify(context)}`;
    if (!after.startsWith(before)) expect(after, where()).toMatch(new RegExp(`^${before}`));
    const bytes = table.bytes[id];
    if (bytes) expectAddedText(after.slice(before.length), bytes, where);
    else if (id < tokenizerSize && !renderedNulls.has(id)) expect(after, where()).toBe(before);
  }
}

function promptContexts(tok: LoadedTokenizer, prompts: string[]): number[][] {
  return prompts.flatMap((prompt) => {
    const ids = tok.full.encode(prompt).ids;
    // The detokenizer decodes after the last 4 prompt tokens only.
    return [ids, ids.slice(-4)];
  });
}

const loaded = new Map<string, { folder: ModelFolder; tok: LoadedTokenizer; json: unknown }>();
function load(dir: string): { folder: ModelFolder; tok: LoadedTokenizer; json: unknown } {
  let entry = loaded.get(dir);
  if (!entry) {
    const folder = loadModelFolder(dir);
    entry = { folder, tok: loadTokenizer(folder), json: JSON.parse(readFileSync(folder.tokenizerPath, "utf8")) };
    loaded.set(dir, entry);
  }
  return entry;
}

describe("token bytes of the real tokenizers match the library's decode", () => {
  it("tiny-chat (ByteLevel): every id and random runs after a ChatML prompt", () => {
    const { folder, tok, json } = load(defaultModelPath);
    const table = tableOf(json, folder.configVocabSize ?? tok.size);
    expect(table.bytes).toHaveLength(414);
    expect([...tok.specialIds].map((id) => table.bytes[id])).toEqual([null, null, null]);
    expect(table.singleByte.every((b) => b === 1)).toBe(true);
    const contexts = promptContexts(tok, ["<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n", "in the end, he was on it"]);
    checkEveryId(tok, table, contexts[0], tok.size);
    expect(checkRandomRuns(tok, table, contexts, 300, 1)).toBeGreaterThan(150);
  });

  it.skipIf(!haveFixtures)("tiny-random-gpt2 (ByteLevel, logits 1000 of 50295 ids): every id, added whitespace tokens, random runs", () => {
    const { folder, tok, json } = load(fixturePath("tiny-random-gpt2-fp32"));
    const full = tableOf(json, tok.size);
    const narrow = tableOf(json, folder.configVocabSize as number);
    expect(narrow.bytes).toHaveLength(1000);
    expect(narrow.bytes).toEqual(full.bytes.slice(0, 1000));
    expect(full.bytes[50256]).toBeNull(); // <|endoftext|>, special
    expect(new TextDecoder().decode(full.bytes[50257] as Uint8Array)).toBe(" ".repeat(31)); // added, passed through verbatim
    expect(full.bytes.filter((b) => b === null)).toHaveLength(1);
    const contexts = promptContexts(tok, ["in the end, he was on it", "he was on"]);
    checkEveryId(tok, full, contexts[0], tok.size);
    expect(checkRandomRuns(tok, full, contexts, 300, 2)).toBeGreaterThan(150);
  });

  it.skipIf(!haveFixtures)("tiny-random-Llama (SentencePiece, byte fallback): every id and random runs", () => {
    const { folder, tok, json } = load(fixturePath("tiny-random-LlamaForCausalLM-fp32-reconstructed"));
    const table = tableOf(json, folder.configVocabSize as number);
    // <unk>, <s>, </s> and the vocabulary's one empty piece.
    expect(table.bytes.flatMap((b, id) => (b ? [] : [id]))).toEqual([0, 1, 2, 31353]);
    expect(table.bytes[3 + 0x41]).toEqual(Uint8Array.of(0x41)); // <0x41>
    expect(table.singleByte.every((b) => b === 1)).toBe(true);
    const contexts = promptContexts(tok, ["in the end, he was on it", "he was on"]);
    checkEveryId(tok, table, contexts[0], tok.size);
    expect(checkRandomRuns(tok, table, contexts, 300, 3)).toBeGreaterThan(150);
  });

  it.skipIf(!haveFixtures)("tiny-random-Llama: after a prompt with no text, the first token loses its leading space (documented limit)", () => {
    const { tok, json } = load(fixturePath("tiny-random-LlamaForCausalLM-fp32-reconstructed"));
    const table = tableOf(json, tok.size);
    const the = tok.full.encode("the", { add_special_tokens: false }).ids;
    expect(the).toHaveLength(1);
    expect(new TextDecoder().decode(table.bytes[the[0]] as Uint8Array)).toBe(" the");
    expect(decode(tok, [1, the[0]])).toBe("the");
    expect(decode(tok, [1, the[0], the[0]])).toBe("the the");
  });

  it.skipIf(!haveFixtures)("tiny-graph-capture-gqa (no decoder): refused, naming why", () => {
    const { json } = load(fixturePath("tiny-graph-capture-gqa-fp16"));
    const result = tokenBytesFromTokenizerJson(json, 256);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.reason).toMatch(/no decoder.*joins tokens with spaces/);
  });
});

/** Small tokenizer.json files for the edge cases, decoded by the library through loadTokenizer as the server does. */
const scratch = mkdtempSync(join(tmpdir(), "token-bytes-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
let scratchFiles = 0;

function loadJson(json: Record<string, unknown>, tokenizerConfig: Record<string, unknown> = {}): LoadedTokenizer {
  const tokenizerPath = join(scratch, `tokenizer-${scratchFiles++}.json`);
  writeFileSync(tokenizerPath, JSON.stringify(json));
  // loadTokenizer reads only these two fields of a model folder.
  return loadTokenizer({ tokenizerPath, tokenizerConfig } as ModelFolder);
}

const byteLevelText = (text: string): string => [...utf8.encode(text)].map((b) => byteLevelAlphabet[b]).join("");

function byteLevelJson(extraVocab: string[], added: Array<{ id: number; content: string; special: boolean }>): Record<string, unknown> {
  const vocab: Record<string, number> = {};
  byteLevelAlphabet.forEach((char, byte) => (vocab[char] = byte));
  for (const text of extraVocab) vocab[text] = Object.keys(vocab).length;
  const byteLevel = { type: "ByteLevel", add_prefix_space: false, trim_offsets: true, use_regex: true };
  return {
    added_tokens: added.map((t) => ({ ...t, single_word: false, lstrip: false, rstrip: false, normalized: false })),
    normalizer: null,
    pre_tokenizer: byteLevel,
    post_processor: null,
    decoder: byteLevel,
    model: { type: "BPE", vocab, merges: [], unk_token: null },
  };
}

function sentencePieceJson(decoder: unknown, pieces: string[], added: Array<{ id: number; content: string; special: boolean }> = []): Record<string, unknown> {
  const vocab: Record<string, number> = { "<unk>": 0, "<s>": 1, "</s>": 2 };
  for (let b = 0; b < 256; b++) vocab[`<0x${b.toString(16).toUpperCase().padStart(2, "0")}>`] = 3 + b;
  for (const piece of pieces) vocab[piece] = Object.keys(vocab).length;
  const specials = [0, 1, 2].map((id) => ({ id, content: Object.keys(vocab)[id], special: true }));
  return {
    added_tokens: [...specials, ...added].map((t) => ({ ...t, single_word: false, lstrip: false, rstrip: false, normalized: false })),
    normalizer: null,
    pre_tokenizer: null,
    post_processor: null,
    decoder,
    model: { type: "BPE", vocab, merges: [], unk_token: "<unk>", byte_fallback: true },
  };
}

const LLAMA_DECODER = {
  type: "Sequence",
  decoders: [
    { type: "Replace", pattern: { String: "▁" }, content: " " },
    { type: "ByteFallback" },
    { type: "Fuse" },
    { type: "Strip", content: " ", start: 1, stop: 0 },
  ],
};
// Ids 259.. (after <unk>, <s>, </s> and the 256 byte tokens).
const PIECES = ["▁the", "▁a", "▁", "ing", "▁▁", "é", "▁你好", "<0xZZ>", "<0x4G>"];

describe("token bytes of edge-case tokenizers match the library's decode", () => {
  it("ByteLevel: added tokens pass through or byte-decode as the server decodes them, out-of-alphabet vocabulary is null", () => {
    const added = [
      { id: 259, content: "<tool>", special: false }, // in the alphabet: byte-decoded, same bytes
      { id: 260, content: "   ", special: false }, // real spaces: passed through verbatim
      { id: 261, content: "<|end|>", special: true },
      { id: 262, content: "\t\tx", special: false },
    ];
    const json = byteLevelJson([byteLevelText(" hello"), "a b", byteLevelText("é")], added);
    const tok = loadJson(json);
    const table = tableOf(json, 270);
    const text = (id: number): string | null => (table.bytes[id] ? new TextDecoder().decode(table.bytes[id] as Uint8Array) : null);
    expect([256, 257, 258, 259, 260, 261, 262, 263, 269].map(text)).toEqual([" hello", null, "é", "<tool>", "   ", null, "\t\tx", null, null]);
    expect(table.singleByte.every((b) => b === 1)).toBe(true);
    const context = [byteLevelAlphabet.indexOf("h"), byteLevelAlphabet.indexOf("i")];
    // The library writes a 0 byte for the real space of vocabulary entry "a b": not text a model means.
    expect(decode(tok, [...context, 257])).toBe("hia\u0000b");
    checkEveryId(tok, table, context, 263, new Set([257]));
    expect(checkRandomRuns(tok, table, [context], 200, 4)).toBeGreaterThan(50);
  });

  it("SentencePiece Sequence(Replace, ByteFallback, Fuse, Strip): <0xNN> is one byte, ▁ a space, added tokens go through the decoder", () => {
    const json = sentencePieceJson(LLAMA_DECODER, PIECES, [{ id: 268, content: "▁<tool>", special: false }]);
    const tok = loadJson(json);
    const table = tableOf(json, 280);
    expect([...(table.bytes[3 + 0x41] as Uint8Array)]).toEqual([0x41]);
    const text = (id: number): string => new TextDecoder().decode(table.bytes[id] as Uint8Array);
    expect([259, 261, 262, 263, 264, 265, 266, 268].map(text)).toEqual([" the", " ", "ing", "  ", "é", " 你好", "<0xZZ>", " <tool>"]);
    expect(table.bytes[267]).toEqual(Uint8Array.of(4)); // "<0x4G>": the library's parseInt reads "4G" as 4
    expect(table.bytes.slice(269)).toEqual(new Array(11).fill(null));
    const context = [1, 259, 260];
    checkEveryId(tok, table, context, 280);
    expect(checkRandomRuns(tok, table, [context, [1, 263]], 200, 5)).toBeGreaterThan(50);
  });

  it("Metaspace alone: ▁ is a space and <0xNN> stays literal text (no byte fallback)", () => {
    const json = sentencePieceJson({ type: "Metaspace", replacement: "▁", prepend_scheme: "always", split: true }, PIECES);
    const tok = loadJson(json);
    const table = tableOf(json, 268);
    expect(new TextDecoder().decode(table.bytes[3 + 0x41] as Uint8Array)).toBe("<0x41>");
    const context = [1, 259, 260];
    checkEveryId(tok, table, context, 268);
    expect(checkRandomRuns(tok, table, [context], 100, 6)).toBeGreaterThan(50);
  });

  it("additional_special_tokens from tokenizer_config are dropped by the decode, so they are null when passed in", () => {
    const json = byteLevelJson([byteLevelText("<extra>")], []);
    const tok = loadJson(json, { additional_special_tokens: ["<extra>"] });
    expect(decode(tok, [byteLevelAlphabet.indexOf("a"), 256])).toBe("a");
    const result = tokenBytesFromTokenizerJson(json, 257, { additionalSpecialTokens: ["<extra>"] });
    expect(result.ok && result.table.bytes[256]).toBeNull();
  });
});

describe("decoders whose text is not a concatenation of token bytes are refused", () => {
  const byteLevel = byteLevelJson([], []);
  const cases: Array<[string, unknown, RegExp]> = [
    ["no decoder", null, /no decoder/],
    ["WordPiece", { type: "WordPiece", prefix: "##", cleanup: true }, /"WordPiece"/],
    ["BPEDecoder", { type: "BPEDecoder", suffix: "</w>" }, /"BPEDecoder"/],
    ["CTC", { type: "CTC", pad_token: "<pad>" }, /"CTC"/],
    ["an unknown type", { type: "Future" }, /"Future" is not supported/],
    ["Strip before Fuse", { type: "Sequence", decoders: [{ type: "Strip", content: " ", start: 1, stop: 0 }, { type: "Fuse" }] }, /"Strip" before Fuse/],
    ["Strip at the end", { type: "Sequence", decoders: [{ type: "Fuse" }, { type: "Strip", content: " ", start: 0, stop: 1 }] }, /stop=1/],
    ["Replace after ByteFallback", { type: "Sequence", decoders: [{ type: "ByteFallback" }, { type: "Replace", pattern: { String: "▁" }, content: " " }] }, /after ByteFallback/],
    ["a regex Replace", { type: "Sequence", decoders: [{ type: "Replace", pattern: { Regex: "▁+" }, content: " " }] }, /regex/],
    ["a multi-character Replace after Fuse", { type: "Sequence", decoders: [{ type: "Fuse" }, { type: "Replace", pattern: { String: "ab" }, content: "" }] }, /across token boundaries/],
    ["ByteLevel inside a Sequence", { type: "Sequence", decoders: [{ type: "ByteLevel" }] }, /inside a Sequence/],
  ];
  for (const [name, decoder, reason] of cases) {
    it(name, () => {
      const result = tokenBytesFromTokenizerJson({ ...byteLevel, decoder }, 256);
      expect(result.ok).toBe(false);
      if (!result.ok) expect(result.reason).toMatch(reason);
    });
  }

  it("a BPE model with an end-of-word suffix, and input that is not a tokenizer", () => {
    const withSuffix = { ...byteLevel, model: { ...(byteLevel.model as object), end_of_word_suffix: "</w>" } };
    expect(tokenBytesFromTokenizerJson(withSuffix, 256)).toMatchObject({ ok: false, reason: expect.stringMatching(/end_of_word_suffix/) });
    expect(tokenBytesFromTokenizerJson("nope", 256)).toMatchObject({ ok: false });
    expect(tokenBytesFromTokenizerJson(byteLevel, -1)).toMatchObject({ ok: false });
  });

  it("the Llama-style Sequence is accepted, and a vocabSize past the tokenizer leaves nulls", () => {
    const result = tokenBytesFromTokenizerJson(sentencePieceJson(LLAMA_DECODER, []), 300);
    expect(result.ok).toBe(true);
    if (result.ok) expect(result.table.bytes.slice(259)).toEqual(new Array(41).fill(null));
  });
});
