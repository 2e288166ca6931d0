/**
 * IncrementalDetokenizer against real tokenizers: whatever the token ids,
 * the streamed chunks add up to the full decode (minus a trailing run of
 * U+FFFD, bytes that never completed), and no chunk carries a U+FFFD that the
 * full decode does not have. Tokenizers: the Llama fixture (SentencePiece
 * style: "▁", byte fallback, one leading space stripped), the gpt2 fixture
 * (byte-level BPE, whitespace added tokens) and models/tiny-chat if built.
 */
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { IncrementalDetokenizer, type TextDecoderLike } from "../../src/generation/detokenizer.ts";
import { loadModelFolder } from "../../src/model/model-folder.ts";
import { loadTokenizer, type LoadedTokenizer } from "../../src/model/tokenizer.ts";
import { defaultModelPath, fixturePath, haveDefaultModel, haveFixtures } from "../support/fixtures.ts";

const FFFD = "\uFFFD";

/** ASCII, spaces, accented letters, CJK, emoji (astral, ZWJ sequences) and a combining mark. */
const ALPHABET = [
  "a", "b", "e", "t", "h", "Z", "0", "7", ".", ",", "!", "'", "<", "/", ">", "\n", " ", " ", "  ",
  "é", "ü", "ñ", "Å", "ç", "e\u0301",
  "你", "好", "世", "界", "の", "한",
  "😀", "🎉", "👍🏽", "👩‍💻", "🇫🇷", "€", "—",
];

const text = fc.array(fc.constantFrom(...ALPHABET), { maxLength: 24 }).map((parts) => parts.join(""));

function decoderOf(tok: LoadedTokenizer): TextDecoderLike {
  return {
    decode: (ids) =>
      ids.length === 0 ? "" : tok.full.decode(ids, { skip_special_tokens: true, clean_up_tokenization_spaces: false }),
  };
}

function withoutTrailingReplacement(s: string): string {
  let end = s.length;
  while (end > 0 && s.charCodeAt(end - 1) === 0xfffd) end--;
  return s.slice(0, end);
}

function stream(decoder: TextDecoderLike, ids: number[], context: number[] = []): string[] {
  const detok = new IncrementalDetokenizer(decoder, context);
  return ids.map((id) => detok.push(id));
}

/** The property in the header, for one id sequence: chunks add up to the full decode, and no chunk has a U+FFFD it lacks. */
function checkStream(decoder: TextDecoderLike, ids: number[]): void {
  const chunks = stream(decoder, ids);
  const full = decoder.decode(ids);
  expect(chunks.join("")).toBe(withoutTrailingReplacement(full));
  if (!full.includes(FFFD)) for (const chunk of chunks) expect(chunk).not.toContain(FFFD);
}

function commonPrefixLength(a: string, b: string): number {
  let i = 0;
  while (i < a.length && i < b.length && a.charCodeAt(i) === b.charCodeAt(i)) i++;
  return i;
}

/**
 * With the prompt as context, the completion's chunks add up to what a full
 * decode of prompt + completion adds after the prompt's own text. A prompt
 * given as ids may end inside a character (its decode ends in U+FFFD): the
 * completion's text then starts where the two decodes first differ, so a
 * character the completion finishes is its text and the prompt's invalid
 * bytes are not.
 */
function checkStreamAfterPrompt(decoder: TextDecoderLike, prompt: number[], ids: number[]): void {
  const promptText = prompt.length > 0 ? decoder.decode(prompt) : "";
  const full = decoder.decode([...prompt, ...ids]);
  const expected = withoutTrailingReplacement(full).slice(commonPrefixLength(promptText, full));
  const chunks = stream(decoder, ids, prompt);
  expect(chunks.join("")).toBe(expected);
  if (!expected.includes(FFFD)) for (const chunk of chunks) expect(chunk).not.toContain(FFFD);
}

interface Subject {
  name: string;
  available: boolean;
  path: string;
  /** Ids worth over-sampling in random sequences (byte pieces, specials, added tokens). */
  interesting: (tok: LoadedTokenizer) => number[];
}

const subjects: Subject[] = [
  {
    name: "Llama fixture (SentencePiece-style BPE, byte fallback)",
    available: haveFixtures,
    path: fixturePath("tiny-random-LlamaForCausalLM-fp32-reconstructed"),
    interesting: (tok) => {
      const bytes = [...Array(256).keys()].map((b) => tok.full.token_to_id(`<0x${b.toString(16).toUpperCase().padStart(2, "0")}>`));
      return [0, 1, 2, tok.full.token_to_id("▁")!, ...bytes.filter((id): id is number => id !== undefined)];
    },
  },
  {
    name: "gpt2 fixture (byte-level BPE)",
    available: haveFixtures,
    path: fixturePath("tiny-random-gpt2-fp32"),
    // Ids below 256 are single bytes (many are lone UTF-8 lead or continuation bytes); 50256+ are added tokens.
    interesting: (tok) => [...Array(256).keys(), ...[...Array(tok.size - 50256).keys()].map((i) => 50256 + i)],
  },
  {
    name: "models/tiny-chat",
    available: haveDefaultModel,
    path: defaultModelPath,
    interesting: (tok) => [...Array(Math.min(tok.size, 300)).keys(), ...tok.specialIds],
  },
];

for (const subject of subjects) {
  describe.skipIf(!subject.available)(`IncrementalDetokenizer with the ${subject.name}`, () => {
    let tok: LoadedTokenizer;
    let decoder: TextDecoderLike;
    let randomIds: fc.Arbitrary<number[]>;
    beforeAll(() => {
      tok = loadTokenizer(loadModelFolder(subject.path));
      decoder = decoderOf(tok);
      const interesting = subject.interesting(tok);
      const id = fc.oneof(
        { arbitrary: fc.integer({ min: 0, max: tok.size - 1 }), weight: 2 },
        { arbitrary: fc.constantFrom(...interesting), weight: 3 },
      );
      randomIds = fc.array(id, { minLength: 1, maxLength: 40 });
    });
    const encode = (s: string): number[] => tok.full.encode(s, { add_special_tokens: false }).ids;

    it("streams encoded random text exactly as the full decode", () => {
      fc.assert(
        fc.property(text, (s) => {
          const ids = encode(s);
          fc.pre(ids.length > 0);
          checkStream(decoder, ids);
        }),
        { numRuns: 300 },
      );
    });

    it("streams concatenations of encoded texts and random ids exactly as the full decode", () => {
      fc.assert(
        fc.property(fc.array(fc.oneof(text.map(encode), randomIds), { minLength: 1, maxLength: 4 }), (parts) => {
          const ids = parts.flat();
          fc.pre(ids.length > 0);
          checkStream(decoder, ids);
        }),
        { numRuns: 300 },
      );
    });

    it("streams fully random id sequences exactly as the full decode (FFFD only where the decode has it)", () => {
      fc.assert(
        fc.property(randomIds, (ids) => checkStream(decoder, ids)),
        { numRuns: 500 },
      );
    });

    it("streams a completion after a text prompt as the text the full decode adds after the prompt", () => {
      fc.assert(
        fc.property(text, fc.oneof(text.map(encode), randomIds), (promptText, ids) => {
          fc.pre(ids.length > 0);
          const prompt = encode(promptText);
          // Text prompts end on a whole character: their decode is a prefix of the longer one.
          expect(decoder.decode([...prompt, ...ids]).startsWith(prompt.length > 0 ? decoder.decode(prompt) : "")).toBe(true);
          checkStreamAfterPrompt(decoder, prompt, ids);
        }),
        { numRuns: 300 },
      );
    });

    it("streams a completion after a random id prompt (which may end inside a character)", () => {
      fc.assert(
        fc.property(randomIds, fc.oneof(text.map(encode), randomIds), (prompt, ids) => {
          fc.pre(ids.length > 0);
          checkStreamAfterPrompt(decoder, prompt, ids);
        }),
        { numRuns: 500 },
      );
    });

    it("holds a multi-byte character back until its last piece, then emits it whole", () => {
      for (const s of ["😀", "a👩‍💻b", "你好", " é🎉 "]) {
        const ids = encode(s);
        const chunks = stream(decoder, ids);
        expect(chunks.join("")).toBe(decoder.decode(ids));
        for (const chunk of chunks) expect(chunk).not.toContain(FFFD);
      }
    });
  });
}

describe.skipIf(!haveFixtures)("IncrementalDetokenizer with the Llama fixture: leading spaces", () => {
  let tok: LoadedTokenizer;
  let decoder: TextDecoderLike;
  beforeAll(() => {
    tok = loadTokenizer(loadModelFolder(fixturePath("tiny-random-LlamaForCausalLM-fp32-reconstructed")));
    decoder = decoderOf(tok);
  });

  it("keeps the space of a word that follows the prompt (decoded in the prompt's context)", () => {
    const prompt = tok.full.encode("he was on", { add_special_tokens: true }).ids;
    const ids = tok.full.encode("the way home", { add_special_tokens: false }).ids; // "▁the▁way▁home"
    // A stand-alone decode strips the first space; the completion must not.
    expect(decoder.decode(ids)).toBe("the way home");
    expect(stream(decoder, ids, prompt).join("")).toBe(" the way home");
  });

  it("keeps spaces between words across the sliding window, far beyond the context size", () => {
    const words = Array.from({ length: 40 }, (_, i) => (i % 3 === 0 ? "día" : i % 3 === 1 ? "😀x" : "end")).join(" ");
    const ids = tok.full.encode(words, { add_special_tokens: true }).ids;
    expect(stream(decoder, ids).join("")).toBe(words);
  });
});
