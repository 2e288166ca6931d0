/**
 * bench/large-vocabulary.ts: the ~150,000-token vocabulary the mask-cost
 * bench runs on. It must be the same on every machine and every run (a
 * pinned digest: change it only together with the generator, knowing that
 * bench numbers before and after are not comparable), hold distinct tokens
 * including all 256 single bytes, and keep a real vocabulary's shape.
 */
import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { largeVocabularyTable, largeVocabularyTokenizerJson } from "../../../bench/large-vocabulary.ts";
import { tokenBytesFromTokenizerJson } from "../../../src/generation/constraint/token-bytes.ts";

const DIGEST = "c3fe12948a16971762cb5273392e4bb7961b391cee85e245ffd1ebebf886ee0f";

function digest(tokens: ReadonlyArray<Uint8Array | null>): string {
  const hash = createHash("sha256");
  for (const bytes of tokens) {
    if (!bytes) throw new Error("null token");
    hash.update(Uint32Array.of(bytes.length));
    hash.update(bytes);
  }
  return hash.digest("hex");
}

describe("large bench vocabulary", () => {
  const table = largeVocabularyTable();
  const tokens = table.bytes as Uint8Array[];

  it("is the pinned vocabulary: 150,000 distinct non-empty tokens with every single byte", () => {
    expect(tokens).toHaveLength(150_000);
    expect(digest(tokens)).toBe(DIGEST);
    expect(new Set(tokens.map((b) => Buffer.from(b).toString("latin1"))).size).toBe(150_000);
    expect(tokens.every((b) => b.length > 0)).toBe(true);
    const singles = new Set(tokens.filter((b) => b.length === 1).map((b) => b[0]));
    expect(singles.size).toBe(256);
    expect(table.singleByte.every((b) => b === 1)).toBe(true);
  });

  it("a smaller size is the same sequence cut short, and the same on a second build", () => {
    const small = largeVocabularyTable(20_000);
    expect(small.bytes).toHaveLength(20_000);
    expect(digest(small.bytes)).toBe(digest(tokens.slice(0, 20_000)));
    expect(digest(largeVocabularyTable(20_000).bytes)).toBe(digest(small.bytes));
    expect(() => largeVocabularyTable(255)).toThrow(RangeError);
  });

  it("has the shape of a large byte-level vocabulary", () => {
    const mean = tokens.reduce((n, b) => n + b.length, 0) / tokens.length;
    const share = (test: (b: Uint8Array) => boolean): number => tokens.filter(test).length / tokens.length;
    expect(mean).toBeGreaterThan(5);
    expect(mean).toBeLessThan(9);
    expect(share((b) => b[0] === 0x20)).toBeGreaterThan(0.4); // space-led words
    expect(share((b) => b.some((x) => x >= 0x80))).toBeGreaterThan(0.15); // multi-byte scripts and pieces of characters
    expect(share((b) => b.some((x) => x >= 0x80))).toBeLessThan(0.45);
    const lossy = new TextDecoder();
    expect(share((b) => !lossy.decode(b).includes("\uFFFD"))).toBeGreaterThan(0.9); // whole characters, mostly
    expect(tokens.reduce((n, b) => Math.max(n, b.length), 0)).toBeLessThanOrEqual(64);
  });

  it("its tokenizer.json form reads back to the same table", () => {
    const json = largeVocabularyTokenizerJson(20_000);
    const result = tokenBytesFromTokenizerJson(json, 20_000);
    expect(result.ok).toBe(true);
    if (result.ok) expect(digest(result.table.bytes)).toBe(digest(tokens.slice(0, 20_000)));
  });
});
