/**
 * The mask is exact: a token is allowed if and only if stepping the matcher
 * over its bytes, one at a time, leaves some stack (EOS: if and only if the
 * value is complete). The trie walk takes shortcuts for speed (pruned
 * subtrees, one-stack levels in typed arrays, cached masks); this checks
 * every shortcut against the plain definition, token by token, along random
 * walks of random schemas. And applyMask, which skips runs of empty words,
 * writes -Infinity exactly where the plain bit test says.
 */
import fc from "fast-check";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { largeVocabularyTable } from "../../../bench/large-vocabulary.ts";
import { GrammarMatcher, type StackSet } from "../../../src/generation/constraint/matcher.ts";
import { compileSchema } from "../../../src/generation/constraint/schema-compiler.ts";
import { tokenBytesFromTokenizerJson, type TokenBytes } from "../../../src/generation/constraint/token-bytes.ts";
import { applyMask, isAllowed, TokenMasks } from "../../../src/generation/constraint/token-mask.ts";
import { TokenTrie } from "../../../src/generation/constraint/token-trie.ts";
import { tinyChat } from "../../support/fixtures.ts";
import { schemaArbitrary, TREE_SCHEMA } from "./random-schemas.ts";
import { compilesSchema, seededRandom } from "./support.ts";

interface Vocab {
  table: TokenBytes;
  trie: TokenTrie;
  vocabSize: number;
  eos: number;
}

function tinyChatVocab(): Vocab {
  const result = tokenBytesFromTokenizerJson(JSON.parse(readFileSync(join(tinyChat, "tokenizer.json"), "utf8")), 414);
  if (!result.ok) throw new Error(result.reason);
  const bytes = result.table.bytes.slice();
  bytes[413] = null;
  const table = { bytes, singleByte: result.table.singleByte };
  return { table, trie: TokenTrie.build(table), vocabSize: 414, eos: 413 };
}

/**
 * Every single byte, every pair over JSON's own characters and seeded
 * longer runs of them: tokens like `",`, `":"`, `1]}` or `null,` end one
 * terminal and start the next, the walk's branching case, which
 * byte-level vocabularies of real models have plenty of.
 */
function jsonShapedVocab(): Vocab {
  const alphabet = Array.from(new TextEncoder().encode('{}[],:"\\ 0123456789-.eEtrufalsnx'));
  const keys = new Set<string>();
  const bytes: Uint8Array[] = [];
  const add = (token: number[]): void => {
    const key = token.join(",");
    if (keys.has(key)) return;
    keys.add(key);
    bytes.push(Uint8Array.from(token));
  };
  for (let b = 0; b < 256; b++) add([b]);
  for (const a of alphabet) for (const b of alphabet) add([a, b]);
  let state = 0x9e3779b9;
  const random = (): number => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 2 ** 32;
  };
  while (bytes.length < 3000) add(Array.from({ length: 3 + Math.floor(random() * 4) }, () => alphabet[Math.floor(random() * alphabet.length)]));
  const singleByte = new Uint8Array(256).fill(1);
  const table = { bytes, singleByte };
  return { table, trie: TokenTrie.build(table), vocabSize: bytes.length + 1, eos: bytes.length };
}

/** The first 6,000 tokens of the bench's large vocabulary: long words, code, multi-byte scripts, partial characters. */
function largeVocab(): Vocab {
  const table = largeVocabularyTable(6000);
  return { table, trie: TokenTrie.build(table), vocabSize: 6001, eos: 6000 };
}

function survives(matcher: GrammarMatcher, stacks: StackSet, bytes: Uint8Array): boolean {
  let current = stacks;
  for (const byte of bytes) {
    const next: StackSet = [];
    matcher.step(current, byte, next);
    if (next.length === 0) return false;
    current = next;
  }
  return true;
}

/** Walks random allowed tokens and checks each step's mask against the token-by-token definition; returns the steps checked. */
function checkWalk(schema: unknown, vocab: Vocab, seed: number, steps: number): number {
  const matcher = new GrammarMatcher(compileSchema(schema));
  const masks = new TokenMasks(matcher, vocab.trie, vocab.vocabSize, [vocab.eos]);
  let { stacks, accepting } = matcher.initial();
  const random = seededRandom(seed);
  for (let step = 0; step < steps; step++) {
    const mask = masks.maskFor(stacks, accepting);
    const allowed: number[] = [];
    for (let id = 0; id < vocab.vocabSize; id++) {
      const bytes = vocab.table.bytes[id];
      const expected = id === vocab.eos ? accepting : bytes !== null && survives(matcher, stacks, bytes);
      if (isAllowed(mask, id) !== expected) {
        expect.fail(`token ${id} ${JSON.stringify(bytes && new TextDecoder().decode(bytes))}: mask says ${!expected}, its bytes say ${expected} (step ${step} of ${JSON.stringify(schema)})`);
      }
      if (expected && id !== vocab.eos) allowed.push(id);
    }
    if (allowed.length === 0) return step + 1;
    const token = allowed[Math.floor(random() * allowed.length)];
    for (const byte of vocab.table.bytes[token] as Uint8Array) {
      const next: StackSet = [];
      matcher.step(stacks, byte, next);
      stacks = next;
    }
    accepting = matcher.accepts(stacks);
  }
  return steps;
}


const ENUMS = { type: "object", properties: { c: { enum: ["red", "reddish", "rose", 1, 12, null] }, n: { type: "number" } }, required: ["c", "n"], additionalProperties: false };
const STRINGS = { type: "object", properties: { s: { type: "string", minLength: 3, maxLength: 40 }, t: { type: "string", maxLength: 5 } }, required: ["s"], additionalProperties: false };
// Counts far from both bounds share one cached mask (maskClass): the walk crosses from far to near on both sides.
const FOLDED_STRINGS = { type: "array", items: { type: "string", minLength: 30, maxLength: 70 }, minItems: 2, maxItems: 2 };

describe.each([
  ["tiny-chat", tinyChatVocab, 40, 60],
  ["a JSON-shaped vocabulary (tokens across terminals)", jsonShapedVocab, 25, 40],
  ["6,000 tokens of the large bench vocabulary", largeVocab, 12, 25],
] as const)("token masks over %s", (_name, build, numRuns, steps) => {
  const vocab = build();

  it("allow exactly the tokens whose bytes the matcher takes, along random walks of random schemas", () => {
    let checked = 0;
    fc.assert(
      fc.property(schemaArbitrary, fc.integer(), (schema, seed) => {
        if (compilesSchema(schema)) checked += checkWalk(schema, vocab, seed, steps);
      }),
      { numRuns },
    );
    expect(checked).toBeGreaterThan(numRuns);
  });

  it.each([
    ["enums sharing prefixes (several stacks)", ENUMS],
    ["long strings (a count in the state)", STRINGS],
    ["strings whose counts fold into shared masks", FOLDED_STRINGS],
    ["a recursive tree", TREE_SCHEMA],
  ])("allow exactly those tokens for %s", (_what, schema) => {
    for (let seed = 1; seed <= 3; seed++) checkWalk(schema, vocab, seed, steps);
  });
});

describe("applyMask", () => {
  /** The plain definition: -Infinity at every id below the logits' width whose bit is clear. */
  function reference(logits: Float32Array, mask: Uint32Array): void {
    for (let i = 0; i < Math.min(logits.length, mask.length * 32); i++) if (!isAllowed(mask, i)) logits[i] = Number.NEGATIVE_INFINITY;
  }

  const bit = fc.integer({ min: 0, max: 31 });
  const wordArbitrary = fc.oneof(
    fc.constant(0),
    fc.constant(0xffffffff),
    bit.map((k) => (1 << k) >>> 0),
    bit.map((k) => ~(1 << k) >>> 0),
    fc.integer({ min: 0, max: 0xffffffff }),
  );

  it("masks exactly the clear bits, with runs of empty and full words, and logits wider or narrower than the mask", () => {
    fc.assert(
      fc.property(fc.array(wordArbitrary, { minLength: 1, maxLength: 40 }), fc.integer({ min: -40, max: 40 }), (words, slack) => {
        const mask = Uint32Array.from(words);
        const width = Math.max(1, mask.length * 32 + slack);
        const logits = Float32Array.from({ length: width }, (_, i) => i / 7);
        const expected = logits.slice();
        applyMask(logits, mask);
        reference(expected, mask);
        expect(Array.from(logits)).toEqual(Array.from(expected));
      }),
      { numRuns: 300 },
    );
  });
});
