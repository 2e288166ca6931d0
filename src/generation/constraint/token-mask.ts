/**
 * Which tokens may come next: a depth-first walk of the vocabulary trie that
 * carries the matcher's stack set down each path and skips a whole subtree as
 * soon as its prefix cannot continue the value. Masks are bitsets over the
 * logits' width and are cached per stack set: inside a free string or a long
 * array the set repeats step after step, so most steps cost a lookup.
 */
import type { GrammarMatcher, StackSet } from "./matcher.ts";
import type { TokenTrie } from "./token-trie.ts";

/** A set bit at id i (word i >>> 5, bit i & 31) means token i is allowed. */
export type TokenMask = Uint32Array;

const CACHE_ENTRIES = 1024;

/** What the cache did, for benches and profiles: counting costs one add per lookup and per walk. */
export interface TokenMaskStats {
  lookups: number;
  /** Lookups that missed and walked the trie. */
  computed: number;
  /** Trie nodes those walks stepped the matcher through (pruned subtrees not counted). */
  nodesVisited: number;
}

export class TokenMasks {
  readonly stats: TokenMaskStats = { lookups: 0, computed: 0, nodesVisited: 0 };
  private readonly cache = new Map<string, TokenMask>();
  private readonly levels: StackSet[];

  constructor(
    private readonly matcher: GrammarMatcher,
    private readonly trie: TokenTrie,
    private readonly vocabSize: number,
    /** Allowed exactly when the value is complete. */
    private readonly eosIds: readonly number[],
  ) {
    this.levels = Array.from({ length: trie.maxDepth + 1 }, () => []);
  }

  /** The mask for a stack set (cached), EOS included when `accepting`. */
  maskFor(stacks: StackSet, accepting: boolean): TokenMask {
    this.stats.lookups++;
    const key = `${accepting ? "A" : "-"}${this.matcher.key(stacks)}`;
    const known = this.cache.get(key);
    if (known) {
      // Refresh its place: the Map's order is the eviction order.
      this.cache.delete(key);
      this.cache.set(key, known);
      return known;
    }
    const mask = this.compute(stacks, accepting);
    if (this.cache.size >= CACHE_ENTRIES) this.cache.delete(this.cache.keys().next().value as string);
    this.cache.set(key, mask);
    return mask;
  }

  private compute(stacks: StackSet, accepting: boolean): TokenMask {
    const mask = new Uint32Array((this.vocabSize + 31) >>> 5);
    const { byte, depth, subtreeEnd, tokenStart, tokenIds, nodeCount } = this.trie;
    const levels = this.levels;
    levels[0] = stacks;
    let visited = 0;
    for (let i = 1; i < nodeCount; ) {
      visited++;
      const d = depth[i];
      const here = levels[d];
      this.matcher.step(levels[d - 1], byte[i], here);
      if (here.length === 0) {
        i = subtreeEnd[i];
        continue;
      }
      for (let k = tokenStart[i]; k < tokenStart[i + 1]; k++) {
        const id = tokenIds[k];
        mask[id >>> 5] |= 1 << (id & 31);
      }
      i++;
    }
    levels[0] = [];
    this.stats.computed++;
    this.stats.nodesVisited += visited;
    if (accepting) for (const id of this.eosIds) if (id < this.vocabSize) mask[id >>> 5] |= 1 << (id & 31);
    return mask;
  }
}

export function isAllowed(mask: TokenMask, id: number): boolean {
  return ((mask[id >>> 5] >>> (id & 31)) & 1) === 1;
}

/** Masks every disallowed token of a row's logits with -Infinity. */
export function applyMask(logits: Float32Array, mask: TokenMask): void {
  for (let w = 0; w < mask.length; w++) {
    const bits = mask[w];
    if (bits === -1 >>> 0) continue;
    const base = w << 5;
    const end = Math.min(base + 32, logits.length);
    for (let i = base; i < end; i++) if (((bits >>> (i - base)) & 1) === 0) logits[i] = Number.NEGATIVE_INFINITY;
  }
}

/** How many tokens a mask allows (for tests and logs). */
export function allowedCount(mask: TokenMask): number {
  let n = 0;
  for (const w of mask) {
    let v = w;
    while (v !== 0) {
      v &= v - 1;
      n++;
    }
  }
  return n;
}
