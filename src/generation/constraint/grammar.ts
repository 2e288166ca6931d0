/**
 * The grammar a JSON Schema compiles to: terminals (byte automata) combined
 * by sequence, choice, counted repetition and references (for recursive
 * schemas). It is built once per schema and then only read, by the matcher.
 *
 * `productive` is the property the matcher relies on to never walk into a
 * dead end: a node is productive when some finite byte string matches it.
 * The matcher only ever enters productive alternatives, so every state it
 * reaches can still be completed.
 */
import { DEAD, type ByteTerminal } from "./byte-terminal.ts";

export type GrammarNode =
  | { kind: "terminal"; id: number; terminal: ByteTerminal; terminalIndex: number }
  | { kind: "seq"; id: number; items: GrammarNode[] }
  | { kind: "alt"; id: number; options: GrammarNode[] }
  /** `min`..`max` items (max may be Infinity), `separator` between consecutive items. */
  | { kind: "repeat"; id: number; item: GrammarNode; separator: GrammarNode | null; min: number; max: number }
  /** A node defined later (recursion): `target` is set once the definition is compiled. */
  | { kind: "ref"; id: number; name: string; target: GrammarNode | null }
  | { kind: "empty"; id: number };

export class GrammarLimitError extends Error {}

export class Grammar {
  readonly nodes: GrammarNode[] = [];
  readonly terminals: ByteTerminal[] = [];
  /** Per node id, filled by `seal`. */
  productive = new Uint8Array(0);
  root: GrammarNode | null = null;

  constructor(private readonly maxNodes: number) {}

  private add<T extends GrammarNode>(node: T): T {
    if (this.nodes.length >= this.maxNodes) {
      throw new GrammarLimitError(`the schema needs more than ${this.maxNodes} grammar nodes`);
    }
    this.nodes.push(node);
    return node;
  }

  terminal(terminal: ByteTerminal): GrammarNode {
    const node = this.add({ kind: "terminal", id: this.nodes.length, terminal, terminalIndex: this.terminals.length });
    this.terminals.push(terminal);
    return node;
  }

  seq(items: GrammarNode[]): GrammarNode {
    const flat = items.filter((n) => n.kind !== "empty");
    if (flat.length === 0) return this.empty();
    if (flat.length === 1) return flat[0];
    return this.add({ kind: "seq", id: this.nodes.length, items: flat });
  }

  alt(options: GrammarNode[]): GrammarNode {
    if (options.length === 1) return options[0];
    return this.add({ kind: "alt", id: this.nodes.length, options });
  }

  optional(node: GrammarNode): GrammarNode {
    return this.alt([node, this.empty()]);
  }

  repeat(item: GrammarNode, min: number, max: number, separator: GrammarNode | null): GrammarNode {
    return this.add({ kind: "repeat", id: this.nodes.length, item, separator, min, max });
  }

  ref(name: string): Extract<GrammarNode, { kind: "ref" }> {
    return this.add({ kind: "ref", id: this.nodes.length, name, target: null });
  }

  empty(): GrammarNode {
    return this.add({ kind: "empty", id: this.nodes.length });
  }

  /** Fixes the root and computes which nodes can match some finite input (a least fixpoint). */
  seal(root: GrammarNode): void {
    this.root = root;
    const productive = new Uint8Array(this.nodes.length);
    const is = (n: GrammarNode): boolean => productive[n.id] === 1;
    for (let changed = true; changed; ) {
      changed = false;
      for (const node of this.nodes) {
        if (productive[node.id]) continue;
        let now: boolean;
        switch (node.kind) {
          case "terminal":
            now = node.terminal.initial !== DEAD;
            break;
          case "seq":
            now = node.items.every(is);
            break;
          case "alt":
            now = node.options.some(is);
            break;
          case "repeat":
            now = node.min === 0 || (is(node.item) && (node.min < 2 || node.separator === null || is(node.separator)));
            break;
          case "ref":
            now = node.target !== null && is(node.target);
            break;
          case "empty":
            now = true;
            break;
        }
        if (now) {
          productive[node.id] = 1;
          changed = true;
        }
      }
    }
    this.productive = productive;
  }

  isProductive(node: GrammarNode): boolean {
    return this.productive[node.id] === 1;
  }
}
