/**
 * Which tokens may come next: a depth-first walk of the vocabulary trie that
 * carries the matcher's stack set down each path and skips a whole subtree as
 * soon as its prefix cannot continue the value. Masks are bitsets over the
 * logits' width and are cached per stack set: inside a free string or a long
 * array the set repeats step after step, so most steps cost a lookup.
 */
import { DEAD } from "./byte-terminal.ts";
import { MAY_BRANCH, type GrammarMatcher, type StackSet } from "./matcher.ts";
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
  /** Per level: 1 when it is one stack, held in oneT/oneS/oneC (terminal, its state, continuation); see compute. */
  private readonly one: Uint8Array;
  private readonly oneT: Int32Array;
  private readonly oneS: Int32Array;
  private readonly oneC: Int32Array;
  /** A one-stack level as an array, for the nodes that need matcher.step. */
  private readonly scratch: StackSet = [0, 0, 0];

  constructor(
    private readonly matcher: GrammarMatcher,
    private readonly trie: TokenTrie,
    private readonly vocabSize: number,
    /** Allowed exactly when the value is complete. */
    private readonly eosIds: readonly number[],
  ) {
    this.levels = Array.from({ length: trie.maxDepth + 1 }, () => []);
    this.one = new Uint8Array(trie.maxDepth + 1);
    this.oneT = new Int32Array(trie.maxDepth + 1);
    this.oneS = new Int32Array(trie.maxDepth + 1);
    this.oneC = new Int32Array(trie.maxDepth + 1);
  }

  /** The mask for a stack set (cached), EOS included when `accepting`. */
  maskFor(stacks: StackSet, accepting: boolean): TokenMask {
    this.stats.lookups++;
    const key = `${accepting ? "A" : "-"}${this.matcher.key(stacks, this.trie.maxDepth)}`;
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

  /**
   * The walk. Level d holds the stack set after the d bytes of the current
   * path. A level of one stack, the common case, lives in the typed arrays
   * (oneT/oneS/oneC) and is stepped by matcher.stepSingle: one terminal
   * step, no array to clear or fill (clearing a JS array's length is a
   * runtime call, and took a quarter of a walk's time). Only where the set has
   * several stacks, or its terminal may end and hand over to what follows,
   * does a node go through matcher.step with arrays; a result of one stack
   * goes back to the typed arrays for the nodes below.
   */
  private compute(stacks: StackSet, accepting: boolean): TokenMask {
    const mask = new Uint32Array((this.vocabSize + 31) >>> 5);
    const { byte, depth, subtreeEnd, tokenStart, tokenIds, nodeCount } = this.trie;
    const { levels, one, oneT, oneS, oneC, scratch } = this;
    const matcher = this.matcher;
    levels[0] = stacks;
    this.setLevel(0, stacks);
    let visited = 0;
    for (let i = 1; i < nodeCount; ) {
      visited++;
      const d = depth[i];
      const p = d - 1;
      let next = MAY_BRANCH;
      if (one[p] === 1) next = matcher.stepSingle(oneT[p], oneS[p], oneC[p], byte[i]);
      if (next === DEAD) {
        i = subtreeEnd[i];
        continue;
      }
      if (next !== MAY_BRANCH) {
        one[d] = 1;
        oneT[d] = oneT[p];
        oneS[d] = next;
        oneC[d] = oneC[p];
      } else {
        let from = levels[p];
        if (one[p] === 1) {
          scratch[0] = oneT[p];
          scratch[1] = oneS[p];
          scratch[2] = oneC[p];
          from = scratch;
        }
        const here = levels[d];
        matcher.step(from, byte[i], here);
        if (here.length === 0) {
          i = subtreeEnd[i];
          continue;
        }
        this.setLevel(d, here);
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

  /** Marks level d as one stack (copied to the typed arrays) or several (read from levels[d]). */
  private setLevel(d: number, stacks: StackSet): void {
    if (stacks.length !== 3) {
      this.one[d] = 0;
      return;
    }
    this.one[d] = 1;
    this.oneT[d] = stacks[0];
    this.oneS[d] = stacks[1];
    this.oneC[d] = stacks[2];
  }
}

export function isAllowed(mask: TokenMask, id: number): boolean {
  return ((mask[id >>> 5] >>> (id & 31)) & 1) === 1;
}

/**
 * Masks every disallowed token of a row's logits with -Infinity. A large
 * vocabulary's mask is mostly empty words (a number allows a few dozen of
 * 150k tokens): a run of them is one fill, and a partly set word visits only
 * its clear bits, so the cost follows the mask's shape, not 32 tests a word.
 */
export function applyMask(logits: Float32Array, mask: TokenMask): void {
  const words = mask.length;
  for (let w = 0; w < words; ) {
    const bits = mask[w];
    if (bits === FULL_WORD) {
      w++;
      continue;
    }
    if (bits === 0) {
      let end = w + 1;
      while (end < words && mask[end] === 0) end++;
      logits.fill(Number.NEGATIVE_INFINITY, w << 5, Math.min(end << 5, logits.length));
      w = end;
      continue;
    }
    const base = w << 5;
    // Each clear bit, lowest first: x & -x isolates it, 31 - clz32 is its index.
    for (let clear = ~bits; clear !== 0; clear &= clear - 1) {
      const i = base + 31 - Math.clz32(clear & -clear);
      if (i < logits.length) logits[i] = Number.NEGATIVE_INFINITY;
    }
    w++;
  }
}

const FULL_WORD = -1 >>> 0;

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
