/**
 * Thompson construction from the pattern's syntax tree: each node has at
 * most one code-point-set edge plus epsilon edges, and the distinct sets are
 * interned so the lazy DFA can partition the alphabet by their boundaries.
 * Counted repetition is unrolled, which is why the node count is capped.
 */
import type { CodePointSet } from "./code-point-sets.ts";
import { PatternTooComplexError } from "./pattern-errors.ts";
import type { RegexNode } from "./regex-parser.ts";

/** Cap on NFA nodes, reached by nested counted repetition such as `(a{1000}){1000}`. */
export const MAX_NFA_NODES = 50_000;

export class Nfa {
  readonly setOf: number[] = [];
  readonly target: number[] = [];
  readonly epsilon: number[][] = [];
  readonly sets: CodePointSet[] = [];
  private readonly setIds = new Map<string, number>();

  node(): number {
    if (this.setOf.length >= MAX_NFA_NODES) {
      throw new PatternTooComplexError(`pattern needs more than ${MAX_NFA_NODES} automaton nodes (nested repetition)`);
    }
    this.setOf.push(-1);
    this.target.push(-1);
    this.epsilon.push([]);
    return this.setOf.length - 1;
  }

  link(from: number, to: number): void {
    this.epsilon[from].push(to);
  }

  /** A fresh node reached from `from` by one code point of `set`. */
  chars(from: number, set: CodePointSet): number {
    const key = set.join(",");
    let id = this.setIds.get(key);
    if (id === undefined) {
      id = this.sets.length;
      this.sets.push(set);
      this.setIds.set(key, id);
    }
    // Fragments always end on a fresh node, but guard the one-edge invariant anyway.
    let source = from;
    if (this.setOf[source] !== -1) {
      source = this.node();
      this.link(from, source);
    }
    const to = this.node();
    this.setOf[source] = id;
    this.target[source] = to;
    return to;
  }

  /** Adds `regex` starting at `from`; returns the node where it ends. */
  compile(regex: RegexNode, from: number): number {
    switch (regex.kind) {
      case "chars":
        return this.chars(from, regex.set);
      case "sequence": {
        let at = from;
        for (const item of regex.items) at = this.compile(item, at);
        return at;
      }
      case "alternation": {
        const end = this.node();
        for (const option of regex.options) {
          const start = this.node();
          this.link(from, start);
          this.link(this.compile(option, start), end);
        }
        return end;
      }
      case "repeat": {
        let at = from;
        for (let i = 0; i < regex.min; i++) {
          const next = this.node();
          this.link(at, next);
          at = this.compile(regex.item, next);
        }
        if (regex.max === Infinity) {
          const loop = this.node();
          this.link(at, loop);
          const body = this.node();
          this.link(loop, body);
          this.link(this.compile(regex.item, body), loop);
          const end = this.node();
          this.link(loop, end);
          return end;
        }
        const end = this.node();
        for (let i = regex.min; i < regex.max; i++) {
          this.link(at, end);
          const next = this.node();
          this.link(at, next);
          at = this.compile(regex.item, next);
        }
        this.link(at, end);
        return end;
      }
    }
  }
}
