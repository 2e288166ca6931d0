/**
 * Data-flow walks between a decoder's weighted MatMuls: which projections a
 * value comes from, which ones it flows into. Walks never cross a MatMul
 * with a constant weight (a projection is where a walk ends) nor a Shape
 * node (a Shape carries only the size of its input, not its values, and
 * exporters read shapes of everything to build Reshape targets).
 */
import { resolveWeight, scopeOf, type Scope, type Weight } from "../graph-queries.ts";
import type { NodeProto } from "../onnx-proto.ts";
import { consumersOf, hasOp, isOp, type GraphIndex } from "./graph-index.ts";

export type ResolvedWeight = Extract<Weight, { ok: true }>;

export interface WeightedMatMul {
  node: NodeProto;
  weight: ResolvedWeight;
}

export class WeightWalker {
  private readonly scope: Scope;
  private readonly cache = new Map<NodeProto, ResolvedWeight | null>();

  constructor(readonly index: GraphIndex) {
    this.scope = scopeOf(index.graph, null);
  }

  /** The node's constant weight when it is a MatMul with one (see graph-queries resolveWeight). */
  weightOf(node: NodeProto | undefined): ResolvedWeight | null {
    if (!isOp(node, "MatMul")) return null;
    let w = this.cache.get(node);
    if (w === undefined) {
      const r = resolveWeight(this.scope, node.input[1]);
      w = r.ok ? r : null;
      this.cache.set(node, w);
    }
    return w;
  }

  weighted(node: NodeProto | undefined): WeightedMatMul | null {
    const weight = this.weightOf(node);
    return weight && node ? { node, weight } : null;
  }

  /** Weighted MatMuls and graph inputs that `name` is computed from. */
  backward(name: string): { matmuls: WeightedMatMul[]; inputs: Set<string> } {
    const matmuls: WeightedMatMul[] = [];
    const inputs = new Set<string>();
    const seen = new Set<string>();
    const stack = [name];
    while (stack.length) {
      const value = stack.pop()!;
      if (seen.has(value)) continue;
      seen.add(value);
      if (this.index.inputs.has(value)) inputs.add(value);
      const node = this.index.producer.get(value);
      if (!node || hasOp(node, "Shape")) continue;
      const w = this.weighted(node);
      if (w) {
        if (!matmuls.some((m) => m.node === node)) matmuls.push(w);
        continue;
      }
      for (const i of node.input) if (i) stack.push(i);
    }
    return { matmuls, inputs };
  }

  /** Weighted MatMuls that `name` flows into, directly or through unweighted nodes. */
  forward(name: string): WeightedMatMul[] {
    const found: WeightedMatMul[] = [];
    const seen = new Set<NodeProto>();
    const stack = [...consumersOf(this.index, name)];
    while (stack.length) {
      const node = stack.pop()!;
      if (seen.has(node)) continue;
      seen.add(node);
      if (hasOp(node, "Shape")) continue;
      const w = this.weighted(node);
      if (w) {
        found.push(w);
        continue;
      }
      for (const o of node.output) if (o) stack.push(...consumersOf(this.index, o));
    }
    return found;
  }

  /** Weighted MatMuls reading `name` directly. */
  readers(name: string): WeightedMatMul[] {
    return consumersOf(this.index, name)
      .filter((n) => n.input[0] === name)
      .map((n) => this.weighted(n))
      .filter((w): w is WeightedMatMul => w !== null);
  }
}
