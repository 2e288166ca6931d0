/**
 * One row's structured-output state: where its output stands in the
 * grammar, which tokens may come next, and whether the value is complete.
 * The compiled grammar and its mask cache are shared by every row of the
 * same schema; a row holds only its stack set.
 */
import type { Grammar } from "./grammar.ts";
import { GrammarMatcher, type StackSet } from "./matcher.ts";
import type { TokenBytes } from "./token-bytes.ts";
import { isAllowed, TokenMasks, type TokenMask } from "./token-mask.ts";
import type { TokenTrie } from "./token-trie.ts";

export interface ConstraintVocabulary {
  table: TokenBytes;
  trie: TokenTrie;
  /** Width of the logits. */
  vocabSize: number;
  eosIds: readonly number[];
}

/** A grammar ready to serve rows: its matcher and mask cache. */
export class CompiledConstraint {
  readonly matcher: GrammarMatcher;
  readonly masks: TokenMasks;

  constructor(
    grammar: Grammar,
    readonly vocabulary: ConstraintVocabulary,
  ) {
    this.matcher = new GrammarMatcher(grammar);
    this.masks = new TokenMasks(this.matcher, vocabulary.trie, vocabulary.vocabSize, vocabulary.eosIds);
  }
}

export class RowConstraint {
  private stacks: StackSet;
  private accepting: boolean;
  private ended = false;

  constructor(private readonly compiled: CompiledConstraint) {
    const start = compiled.matcher.initial();
    this.stacks = start.stacks;
    this.accepting = start.accepting;
  }

  /** The tokens that keep the output a valid prefix (EOS only once the value is complete). */
  mask(): TokenMask {
    return this.compiled.masks.maskFor(this.stacks, this.accepting);
  }

  /** Moves past a sampled token, which must be one the mask allowed. */
  advance(token: number): void {
    const { vocabulary, matcher } = this.compiled;
    if (vocabulary.eosIds.includes(token)) {
      if (!this.accepting) throw new Error(`constrained row drew EOS ${token} before its value was complete`);
      this.ended = true;
      return;
    }
    const bytes = vocabulary.table.bytes[token];
    if (!bytes || !isAllowed(this.mask(), token)) throw new Error(`constrained row drew token ${token}, which its mask did not allow`);
    let current = this.stacks;
    for (const byte of bytes) {
      const next: StackSet = [];
      matcher.step(current, byte, next);
      current = next;
    }
    this.stacks = current;
    this.accepting = matcher.accepts(this.stacks);
  }

  /**
   * Moves past bytes the row already wrote without a mask (the rest of a
   * token that opened a tool call). False when they cannot start the value:
   * the row then goes on unconstrained, and the call is returned as text.
   */
  advanceBytes(bytes: ArrayLike<number>): boolean {
    let current = this.stacks;
    for (let i = 0; i < bytes.length; i++) {
      const next: StackSet = [];
      this.compiled.matcher.step(current, bytes[i], next);
      if (next.length === 0) return false;
      current = next;
    }
    this.stacks = current;
    this.accepting = this.compiled.matcher.accepts(current);
    return true;
  }

  /** True when the value is complete and nothing may follow it: the row is done, no EOS needed. */
  get complete(): boolean {
    return this.ended || (this.accepting && !this.compiled.matcher.canContinue(this.stacks));
  }
}
