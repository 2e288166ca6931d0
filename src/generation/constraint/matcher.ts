/**
 * Runs a grammar over bytes. A matcher state is a set of stacks, each a
 * terminal with its own state on top of a continuation: what must follow
 * once the terminal's value is complete. Several stacks live side by side
 * where the grammar is ambiguous so far (anyOf branches, optional keys that
 * share a prefix), as in llama.cpp's grammar sampler.
 *
 * A stack set is a flat array of triples [terminal, terminalState, cont].
 * Continuations are interned, so equal stacks are equal triples: sets can be
 * deduplicated cheaply and used as cache keys for token masks.
 *
 * One matcher is shared by every row that uses the same schema; rows keep
 * only their own stack set.
 */
import { DEAD, type ByteTerminal } from "./byte-terminal.ts";
import type { Grammar, GrammarNode } from "./grammar.ts";

/** No continuation: the value is complete when the top terminal is. */
const END = -1;

/** The stacks a continuation opens: fresh terminals (at their initial state) and what follows each. */
interface Expansion {
  terms: number[];
  conts: number[];
  /** True when the continuation can end without another byte. */
  accepts: boolean;
}

export type StackSet = number[];

/** stepSingle's answer when the stack's terminal may end at this byte and what follows may start: only step() can say. */
export const MAY_BRANCH = -2;

export class GrammarMatcher {
  readonly terminals: readonly ByteTerminal[];
  private readonly contNode: GrammarNode[] = [];
  private readonly contCount: number[] = [];
  private readonly contNext: number[] = [];
  private readonly contIds = new Map<string, number>();
  private readonly expansions: Array<Expansion | undefined> = [];
  private readonly rootCont: number;

  constructor(private readonly grammar: Grammar) {
    if (!grammar.root) throw new Error("the grammar has no root");
    this.terminals = grammar.terminals;
    this.rootCont = this.intern(grammar.root, 0, END);
  }

  /** The stacks before any byte, and whether the empty output is already complete. */
  initial(): { stacks: StackSet; accepting: boolean } {
    const e = this.expansion(this.rootCont);
    const stacks: StackSet = [];
    for (let j = 0; j < e.terms.length; j++) stacks.push(e.terms[j], this.terminals[e.terms[j]].initial, e.conts[j]);
    return { stacks, accepting: e.accepts };
  }

  /** Writes into `out` the stacks that survive one more byte; `out` is empty when the byte cannot come next. */
  step(stacks: StackSet, byte: number, out: StackSet): void {
    out.length = 0;
    for (let i = 0; i < stacks.length; i += 3) {
      const t = stacks[i];
      const s = stacks[i + 1];
      const c = stacks[i + 2];
      const terminal = this.terminals[t];
      const next = terminal.step(s, byte);
      if (next !== DEAD) addUnique(out, t, next, c);
      if (c === END || !terminal.isComplete(s)) continue;
      // The terminal's value may end here: the byte may instead start what follows it.
      const e = this.expansion(c);
      for (let j = 0; j < e.terms.length; j++) {
        const ft = e.terms[j];
        const fresh = this.terminals[ft];
        const first = fresh.step(fresh.initial, byte);
        if (first !== DEAD) addUnique(out, ft, first, e.conts[j]);
      }
    }
  }

  /**
   * step() for a set of one stack [t, s, c], without arrays: the state its
   * terminal reaches on `byte` (DEAD when it rejects it), which with t and c
   * is the whole result, or MAY_BRANCH when the terminal is complete and has
   * a continuation, the one case where step() may add fresh stacks. The mask
   * walk spends most of its nodes inside one terminal (a string, a number,
   * a key) with one stack, so this is its hot path.
   */
  stepSingle(t: number, s: number, c: number, byte: number): number {
    const terminal = this.terminals[t];
    if (c !== END && terminal.isComplete(s)) return MAY_BRANCH;
    return terminal.step(s, byte);
  }

  /** True when the bytes so far are a complete value. */
  accepts(stacks: StackSet): boolean {
    for (let i = 0; i < stacks.length; i += 3) {
      if (!this.terminals[stacks[i]].isComplete(stacks[i + 1])) continue;
      const c = stacks[i + 2];
      if (c === END || this.expansion(c).accepts) return true;
    }
    return false;
  }

  /** True when some byte can still come next (the value can grow). */
  canContinue(stacks: StackSet): boolean {
    const out: StackSet = [];
    for (let b = 0; b < 256; b++) {
      this.step(stacks, b, out);
      if (out.length > 0) return true;
    }
    return false;
  }

  /**
   * A canonical text of the set for mask caches: sets that accept the same
   * byte strings of at most `horizon` bytes get equal keys (stacks are
   * sorted, and terminal states folded by their maskClass when they have one).
   */
  key(stacks: StackSet, horizon: number): string {
    if (stacks.length === 3) return this.stackKey(stacks[0], stacks[1], stacks[2], horizon);
    const parts = new Set<string>();
    for (let i = 0; i < stacks.length; i += 3) parts.add(this.stackKey(stacks[i], stacks[i + 1], stacks[i + 2], horizon));
    return [...parts].sort().join("|");
  }

  private stackKey(t: number, s: number, c: number, horizon: number): string {
    const terminal = this.terminals[t];
    return terminal.maskClass ? `${t}.m${terminal.maskClass(s, horizon)}.${c}` : `${t}.${s}.${c}`;
  }

  private intern(node: GrammarNode, count: number, next: number): number {
    const key = `${node.id}:${count}:${next}`;
    let id = this.contIds.get(key);
    if (id === undefined) {
      id = this.contNode.length;
      this.contNode.push(node);
      this.contCount.push(count);
      this.contNext.push(next);
      this.contIds.set(key, id);
    }
    return id;
  }

  private expansion(cont: number): Expansion {
    if (cont === END) return { terms: [], conts: [], accepts: true };
    const known = this.expansions[cont];
    if (known) return known;
    const e: Expansion = { terms: [], conts: [], accepts: false };
    const seen = new Set<number>();
    const productive = (n: GrammarNode): boolean => this.grammar.isProductive(n);
    const visit = (c: number): void => {
      if (c === END) {
        e.accepts = true;
        return;
      }
      // A continuation already visited in this expansion adds nothing new (and a nullable cycle would never end).
      if (seen.has(c)) return;
      seen.add(c);
      const node = this.contNode[c];
      const next = this.contNext[c];
      switch (node.kind) {
        case "terminal":
          if (productive(node)) addPair(e, node.terminalIndex, next);
          return;
        case "empty":
          visit(next);
          return;
        case "seq": {
          if (!productive(node)) return;
          let chain = next;
          for (let i = node.items.length - 1; i >= 0; i--) chain = this.intern(node.items[i], 0, chain);
          visit(chain);
          return;
        }
        case "alt":
          for (const option of node.options) if (productive(option)) visit(this.intern(option, 0, next));
          return;
        case "ref":
          if (node.target && productive(node.target)) visit(this.intern(node.target, 0, next));
          return;
        case "repeat": {
          const done = this.contCount[c];
          if (done >= node.min) visit(next);
          const itemOk = productive(node.item) && (node.separator === null || productive(node.separator));
          if (done >= node.max || !itemOk) return;
          // Without an upper bound, counts past the minimum are all alike: keep the
          // count at max(min, 1) so the states (and their cached masks) repeat.
          const after = node.max === Number.POSITIVE_INFINITY ? Math.min(done + 1, Math.max(node.min, 1)) : done + 1;
          let chain = this.intern(node.item, 0, this.intern(node, after, next));
          if (done > 0 && node.separator) chain = this.intern(node.separator, 0, chain);
          visit(chain);
          return;
        }
      }
    };
    visit(cont);
    this.expansions[cont] = e;
    return e;
  }
}

function addUnique(out: StackSet, t: number, s: number, c: number): void {
  for (let i = 0; i < out.length; i += 3) if (out[i] === t && out[i + 1] === s && out[i + 2] === c) return;
  out.push(t, s, c);
}

function addPair(e: Expansion, t: number, c: number): void {
  for (let i = 0; i < e.terms.length; i++) if (e.terms[i] === t && e.conts[i] === c) return;
  e.terms.push(t);
  e.conts.push(c);
}
