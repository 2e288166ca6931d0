/**
 * TokenTrie's preorder arrays: every token sits once at the node whose root
 * path spells its bytes, children come in increasing byte order, and
 * subtreeEnd skips exactly a node's subtree. Checked on a hand-sized table
 * (whole arrays), random tables, and the real vocabularies: tiny-chat, the
 * 49,152-entry SmolLM2-shape bench vocabulary when it has been produced, and
 * the ~150,000-token bench vocabulary.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { largeVocabularyTable } from "../../../bench/large-vocabulary.ts";
import { mulberry32 } from "../../../bench/rng.ts";
import { tokenBytesFromTokenizerJson, type TokenBytes } from "../../../src/generation/constraint/token-bytes.ts";
import { TokenTrie } from "../../../src/generation/constraint/token-trie.ts";
import { defaultModelPath, repoRoot } from "../../support/fixtures.ts";

const SMOLLM_SHAPE_TOKENIZER = join(repoRoot, "models/.cache/smollm2-135m-shape/tokenizer.json");

function tableOf(byteStrings: ReadonlyArray<number[] | null>): TokenBytes {
  const bytes = byteStrings.map((b) => (b ? Uint8Array.from(b) : null));
  const singleByte = new Uint8Array(256);
  for (const b of bytes) if (b?.length === 1) singleByte[b[0]] = 1;
  return { bytes, singleByte };
}

function tokenizerTable(path: string): TokenBytes {
  const json: unknown = JSON.parse(readFileSync(path, "utf8"));
  const result = tokenBytesFromTokenizerJson(json, 49_152);
  if (!result.ok) throw new Error(result.reason);
  return result.table;
}

const hex = (bytes: ArrayLike<number>): string => Buffer.from(Uint8Array.from(bytes)).toString("hex");

function sameBytes(a: Uint8Array, b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Checks every invariant in one preorder scan (keeping the byte path of the
 * current node), throwing on the first violation with the node named:
 * plain loops, because expect() per node is too slow on 150k tokens.
 */
function checkTrie(trie: TokenTrie, table: TokenBytes): void {
  const fail = (message: string): never => {
    throw new Error(message);
  };
  const { nodeCount, byte, depth, subtreeEnd, tokenStart, tokenIds } = trie;
  if (depth[0] !== 0 || subtreeEnd[0] !== nodeCount || tokenStart[0] !== 0) fail("root is not depth 0 spanning every node with no tokens");
  if (tokenStart[nodeCount] !== tokenIds.length) fail("tokenStart does not end at tokenIds.length");
  const path: number[] = [];
  const ancestors: number[] = [0];
  let maxDepth = 0;
  for (let i = 1; i < nodeCount; i++) {
    const d = depth[i];
    if (d < 1 || d > ancestors.length) fail(`node ${i}: depth ${d} does not follow a preorder`);
    ancestors.length = d;
    path.length = d - 1;
    const parent = ancestors[d - 1];
    path.push(byte[i]);
    ancestors.push(i);
    maxDepth = Math.max(maxDepth, d);
    // Subtree: the nodes after i deeper than i, and nothing more.
    const end = subtreeEnd[i];
    if (end <= i || end > subtreeEnd[parent]) fail(`node ${i}: subtreeEnd ${end} outside (${i}, ${subtreeEnd[parent]}]`);
    if (end < nodeCount && depth[end] > d) fail(`node ${i}: subtreeEnd ${end} is inside the subtree`);
    if (end - 1 > i && depth[end - 1] <= d) fail(`node ${i}: node ${end - 1} before subtreeEnd is not a descendant`);
    // Siblings: the next one starts where this subtree ends, with a larger byte.
    if (end < subtreeEnd[parent] && (depth[end] !== d || byte[end] <= byte[i])) fail(`node ${i}: next sibling ${end} is not at depth ${d} with a larger byte`);
    // Tokens at i spell exactly the path; a leaf must hold some (no dead branches).
    if (tokenStart[i + 1] < tokenStart[i]) fail(`node ${i}: tokenStart decreases`);
    if (end === i + 1 && tokenStart[i + 1] === tokenStart[i]) fail(`leaf ${i} holds no token`);
    for (let k = tokenStart[i]; k < tokenStart[i + 1]; k++) {
      const bytes = table.bytes[tokenIds[k]];
      if (!bytes || !sameBytes(bytes, path)) fail(`node ${i} (${hex(path)}) holds token ${tokenIds[k]} (${bytes ? hex(bytes) : "null"})`);
    }
  }
  if (maxDepth !== trie.maxDepth) fail(`maxDepth ${trie.maxDepth}, deepest node ${maxDepth}`);
  // Every usable id exactly once.
  const seen = new Uint8Array(table.bytes.length);
  for (const id of tokenIds) if (seen[id]++ !== 0) fail(`token ${id} appears twice`);
  table.bytes.forEach((b, id) => {
    if ((b !== null && b.length > 0) !== (seen[id] === 1)) fail(`token ${id} ${b ? "is missing" : "is null but present"}`);
  });
}

function describeBuild(name: string, table: TokenBytes): TokenTrie {
  const started = performance.now();
  const trie = TokenTrie.build(table);
  const ms = performance.now() - started;
  const tokens = trie.tokenIds.length;
  console.info(`${name}: ${tokens} tokens → ${trie.nodeCount} nodes (max depth ${trie.maxDepth}), ${(trie.byteLength / 2 ** 20).toFixed(2)} MiB, built in ${ms.toFixed(0)} ms`);
  return trie;
}

describe("TokenTrie", () => {
  it("lays out a small vocabulary in preorder, children by byte, shared byte strings at one node", () => {
    // ids: 0 "ab", 1 "a", 2 null, 3 "b", 4 "abc", 5 "a" (again), 6 "ac", 7 [0xff], 8 [0x00]
    const table = tableOf([[0x61, 0x62], [0x61], null, [0x62], [0x61, 0x62, 0x63], [0x61], [0x61, 0x63], [0xff], [0x00]]);
    const trie = TokenTrie.build(table);
    // Preorder: root, 00, a, ab, abc, ac, b, ff
    expect(trie.nodeCount).toBe(8);
    expect([...trie.byte.subarray(1)]).toEqual([0x00, 0x61, 0x62, 0x63, 0x63, 0x62, 0xff]);
    expect([...trie.depth]).toEqual([0, 1, 1, 2, 3, 2, 1, 1]);
    expect([...trie.subtreeEnd]).toEqual([8, 2, 6, 5, 5, 6, 7, 8]);
    expect([...trie.tokenStart]).toEqual([0, 0, 1, 3, 4, 5, 6, 7, 8]);
    expect([...trie.tokenIds]).toEqual([8, 1, 5, 0, 4, 6, 3, 7]);
    expect(trie.maxDepth).toBe(3);
    checkTrie(trie, table);
  });

  it("an empty table gives just the root", () => {
    const trie = TokenTrie.build(tableOf([null, [], null]));
    expect(trie.nodeCount).toBe(1);
    expect([...trie.subtreeEnd]).toEqual([1]);
    expect([...trie.tokenStart]).toEqual([0, 0]);
    expect(trie.maxDepth).toBe(0);
  });

  it("random tables over a few bytes (dense sharing, duplicates, nulls)", () => {
    const random = mulberry32(11);
    for (let run = 0; run < 200; run++) {
      const alphabet = 1 + Math.floor(random() * 4);
      const count = Math.floor(random() * 60);
      const strings = Array.from({ length: count }, () =>
        random() < 0.1 ? null : Array.from({ length: 1 + Math.floor(random() * 5) }, () => [0x00, 0x41, 0x80, 0xff][Math.floor(random() * alphabet)]),
      );
      const table = tableOf(strings);
      checkTrie(TokenTrie.build(table), table);
    }
  });

  it("tiny-chat's vocabulary", () => {
    const table = tokenizerTable(join(defaultModelPath, "tokenizer.json"));
    const trie = TokenTrie.build(table);
    checkTrie(trie, table);
    expect(trie.tokenIds.length).toBe(411);
  });

  it.skipIf(!existsSync(SMOLLM_SHAPE_TOKENIZER))("the 49,152-entry SmolLM2-shape bench vocabulary", () => {
    const table = tokenizerTable(SMOLLM_SHAPE_TOKENIZER);
    const trie = describeBuild("smollm2-135m-shape", table);
    checkTrie(trie, table);
  });

  it("the ~150,000-token bench vocabulary", () => {
    const table = largeVocabularyTable();
    const trie = describeBuild("large-vocabulary", table);
    checkTrie(trie, table);
    expect(trie.tokenIds.length).toBe(150_000);
  });
});
