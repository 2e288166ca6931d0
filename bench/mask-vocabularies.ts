/**
 * The three vocabularies of the mask-cost bench, as a worker holds them: the
 * token bytes (EOS taken out, read by the worker's own constraintTable for
 * the real models), the trie, the logits' width and the EOS ids. The
 * 135M-shape folder is never committed; without it that vocabulary is
 * skipped with a printed line, as the rest of the bench does.
 */
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { structuredOutputSupport } from "../src/generation/constraint/constraint-vocabulary.ts";
import type { ConstraintVocabulary } from "../src/generation/constraint/row-constraint.ts";
import { TokenTrie } from "../src/generation/constraint/token-trie.ts";
import { loadModelFolder } from "../src/model/model-folder.ts";
import { constraintTable } from "../src/worker/structured-output.ts";
import { largeVocabularyTable } from "./large-vocabulary.ts";
import { REPO_ROOT } from "./models.ts";

export interface BenchVocabulary {
  name: string;
  vocabulary: ConstraintVocabulary;
  /** Ids with bytes (the trie's tokens). */
  tokens: number;
  trieNodes: number;
  /** Strings in ASCII only, as the worker decides from the vocabulary (structuredOutputSupport). */
  asciiOnly: boolean;
  /** Time to build the trie, which a worker pays once, on its first constrained row. */
  trieBuildMs: number;
}

export type VocabularyOrSkip = { ok: true; vocab: BenchVocabulary } | { ok: false; line: string };

const TINY_CHAT = "models/tiny-chat";
const SMOLLM_SHAPE = "models/.cache/smollm2-135m-shape";

export function benchVocabularies(): VocabularyOrSkip[] {
  return [fromFolder("tiny-chat", TINY_CHAT), fromFolder("smollm2-135m-shape", SMOLLM_SHAPE), large()];
}

function fromFolder(name: string, relative: string): VocabularyOrSkip {
  const dir = resolve(REPO_ROOT, relative);
  if (!existsSync(resolve(dir, "tokenizer.json"))) {
    return { ok: false, line: `skipping the ${name} vocabulary: ${relative}/tokenizer.json not found (see "The models" in bench/README.md)` };
  }
  const folder = loadModelFolder(dir);
  const vocabSize = folder.configVocabSize;
  if (vocabSize === null) return { ok: false, line: `skipping the ${name} vocabulary: ${relative}/config.json has no vocab_size` };
  const result = constraintTable(folder, vocabSize);
  if (!result.ok) return { ok: false, line: `skipping the ${name} vocabulary: no constrained decoding (${result.reason})` };
  return { ok: true, vocab: build(name, result.table, vocabSize, folder.special.eos) };
}

/** The ~150k synthetic byte-level vocabulary, with one EOS id past its tokens (it has no special tokens of its own). */
function large(): VocabularyOrSkip {
  const table = largeVocabularyTable();
  const eos = table.bytes.length;
  return { ok: true, vocab: build("150k byte-level", table, eos + 1, [eos]) };
}

function build(name: string, table: ConstraintVocabulary["table"], vocabSize: number, eosIds: readonly number[]): BenchVocabulary {
  const t0 = performance.now();
  const trie = TokenTrie.build(table);
  const trieBuildMs = performance.now() - t0;
  const tokens = table.bytes.reduce((n, b) => (b ? n + 1 : n), 0);
  const { asciiOnly } = structuredOutputSupport(table);
  return { name, vocabulary: { table, trie, vocabSize, eosIds }, asciiOnly, tokens, trieNodes: trie.nodeCount, trieBuildMs };
}
