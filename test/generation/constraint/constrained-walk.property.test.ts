/**
 * The engine's promise, checked without a model: from any state, every
 * token the mask allows can be advanced over, the mask is never empty before
 * the value is complete, and every completed output is valid JSON that ajv
 * accepts. Tokens are drawn uniformly from the mask, which explores far more
 * of the grammar than a model would, over two real vocabularies (byte-level
 * BPE and SentencePiece with byte fallback).
 */
import fc from "fast-check";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { compileSchema } from "../../../src/generation/constraint/schema-compiler.ts";
import { SchemaError } from "../../../src/generation/constraint/schema-error.ts";
import { CompiledConstraint, RowConstraint, type ConstraintVocabulary } from "../../../src/generation/constraint/row-constraint.ts";
import { tokenBytesFromTokenizerJson } from "../../../src/generation/constraint/token-bytes.ts";
import { isAllowed } from "../../../src/generation/constraint/token-mask.ts";
import { TokenTrie } from "../../../src/generation/constraint/token-trie.ts";
import { fixturePath, haveFixtures, tinyChat } from "../../support/fixtures.ts";
import { schemaArbitrary, TREE_SCHEMA } from "./random-schemas.ts";
import { schemaValid, seededRandom } from "./support.ts";

function vocabulary(dir: string, vocabSize: number, eosIds: number[]): ConstraintVocabulary {
  const result = tokenBytesFromTokenizerJson(JSON.parse(readFileSync(join(dir, "tokenizer.json"), "utf8")), vocabSize);
  if (!result.ok) throw new Error(result.reason);
  const bytes = result.table.bytes.slice();
  for (const id of eosIds) bytes[id] = null;
  const table = { bytes, singleByte: result.table.singleByte };
  return { table, trie: TokenTrie.build(table), vocabSize, eosIds };
}

/** Walks one row: uniform draws from the mask; returns the text when the value completed within `steps`. */
function walk(compiled: CompiledConstraint, seed: number, steps: number): string | null {
  const row = new RowConstraint(compiled);
  const { table, vocabSize, eosIds } = compiled.vocabulary;
  const random = seededRandom(seed);
  const decoder = new TextDecoder("utf-8", { fatal: true });
  const out: number[] = [];
  for (let step = 0; step < steps; step++) {
    const mask = row.mask();
    const allowed: number[] = [];
    for (let w = 0; w < mask.length; w++) {
      if (mask[w] === 0) continue;
      for (let id = w << 5; id < Math.min((w + 1) << 5, vocabSize); id++) if (isAllowed(mask, id)) allowed.push(id);
    }
    if (allowed.length === 0) expect.fail(`a dead end after ${JSON.stringify(new TextDecoder().decode(Uint8Array.from(out)))}`);
    const eos = allowed.find((id) => eosIds.includes(id));
    const token = eos !== undefined && random() < 0.5 ? eos : allowed[Math.floor(random() * allowed.length)];
    row.advance(token);
    if (eosIds.includes(token)) return decoder.decode(Uint8Array.from(out));
    out.push(...(table.bytes[token] as Uint8Array));
    if (row.complete) return decoder.decode(Uint8Array.from(out));
  }
  return null;
}

function compiles(schema: unknown): ReturnType<typeof compileSchema> | null {
  try {
    return compileSchema(schema);
  } catch (error) {
    // Random bounds can contradict each other; such schemas are refused, which is tested elsewhere.
    if (error instanceof SchemaError) return null;
    throw error;
  }
}

// [name, vocabulary, property runs]: the 32k vocabulary costs ~100x more per new mask than tiny-chat's 414.
const vocabularies: Array<[string, () => ConstraintVocabulary, number]> = [["tiny-chat (byte-level BPE)", () => vocabulary(tinyChat, 414, [413, 411]), 80]];
if (haveFixtures) {
  const llama = fixturePath("tiny-random-LlamaForCausalLM-fp32-reconstructed");
  vocabularies.push(["Llama fixture (SentencePiece, byte fallback)", () => vocabulary(llama, 32000, [2]), 20]);
}

describe.each(vocabularies)("constrained walks over %s", (_name, build, numRuns) => {
  const vocab = build();

  it("never meets a dead end, and every completed value validates", () => {
    let completed = 0;
    fc.assert(
      fc.property(schemaArbitrary, fc.integer(), (schema, seed) => {
        const grammar = compiles(schema);
        if (!grammar) return;
        const compiled = new CompiledConstraint(grammar, vocab);
        for (let k = 0; k < 3; k++) {
          const text = walk(compiled, seed + k, 400);
          if (text === null) continue;
          completed++;
          expect(schemaValid(schema, JSON.parse(text)), `${text} against ${JSON.stringify(schema)}`).toBe(true);
        }
      }),
      { numRuns },
    );
    expect(completed).toBeGreaterThan(numRuns / 2);
  });

  it("walks a recursive schema to valid trees", () => {
    const compiled = new CompiledConstraint(compileSchema(TREE_SCHEMA), vocab);
    let completed = 0;
    for (let seed = 1; seed <= 30; seed++) {
      const text = walk(compiled, seed, 600);
      if (text === null) continue;
      completed++;
      expect(schemaValid(TREE_SCHEMA, JSON.parse(text)), text).toBe(true);
    }
    expect(completed).toBeGreaterThan(10);
  });
});
