/**
 * Questions the rewrite asks of a graph: where a value comes from (looking
 * out through enclosing graphs, as ONNX scoping does for If/Loop bodies),
 * whether a MatMul's weight is a constant it can quantize, and which names
 * are still read once nodes have been replaced.
 */
import { forEachGraph, subgraphsOf } from "./graph-walk.ts";
import { DataType, int64ToNumber, type GraphProto, type ModelProto, type NodeProto, type TensorProto } from "./onnx-proto.ts";
import type { WeightLayout } from "./block-quantizer.ts";

export interface Scope {
  graph: GraphProto;
  outer: Scope | null;
  initializers: Map<string, TensorProto>;
  sparse: Set<string>;
  producers: Map<string, NodeProto>;
  inputs: Set<string>;
}

export function scopeOf(graph: GraphProto, outer: Scope | null): Scope {
  const producers = new Map<string, NodeProto>();
  for (const node of graph.node) for (const o of node.output) if (o) producers.set(o, node);
  const sparse = new Set<string>();
  for (const s of graph.sparse_initializer as Array<{ values?: { name: string } }>) if (s.values) sparse.add(s.values.name);
  return {
    graph,
    outer,
    initializers: new Map(graph.initializer.map((t) => [t.name, t])),
    sparse,
    producers,
    inputs: new Set(graph.input.map((v) => v.name)),
  };
}

export type ValueSource =
  | { kind: "initializer"; tensor: TensorProto; scope: Scope; overridable: boolean }
  | { kind: "node"; node: NodeProto; scope: Scope }
  | { kind: "input"; scope: Scope }
  | { kind: "sparse"; scope: Scope }
  | { kind: "unknown" };

/** The innermost definition of `name`, as ONNX resolves a subgraph's reference to an outer value. */
export function sourceOf(scope: Scope | null, name: string): ValueSource {
  for (let s = scope; s; s = s.outer) {
    const node = s.producers.get(name);
    if (node) return { kind: "node", node, scope: s };
    const tensor = s.initializers.get(name);
    // An initializer also listed as a graph input is only a default: callers may feed another value.
    if (tensor) return { kind: "initializer", tensor, scope: s, overridable: s.inputs.has(name) };
    if (s.sparse.has(name)) return { kind: "sparse", scope: s };
    if (s.inputs.has(name)) return { kind: "input", scope: s };
  }
  return { kind: "unknown" };
}

export type Weight =
  | {
      ok: true;
      tensor: TensorProto;
      /** The graph that holds the initializer: the quantized tensors go there too, in scope of every user. */
      owner: GraphProto;
      layout: WeightLayout;
      /** The Transpose the weight sits behind, when it does. */
      transpose: { node: NodeProto; graph: GraphProto } | null;
      k: number;
      n: number;
    }
  | { ok: false; reason: string };

/**
 * Whether a MatMul's second input is a weight it can quantize: a 2-D
 * float32/float16 initializer ([K][N]), or a 2-D initializer behind a
 * Transpose that swaps its two axes (the [N][K] form that tied LM heads and
 * Linear layers export as), which is already MatMulNBits' orientation.
 */
export function resolveWeight(scope: Scope, name: string): Weight {
  const source = sourceOf(scope, name);
  switch (source.kind) {
    case "initializer":
      return initializerWeight(source.tensor, source.scope, source.overridable, "KN", null);
    case "node": {
      const { node } = source;
      if (node.op_type !== "Transpose" || (node.domain ?? "") !== "") return { ok: false, reason: `weight is computed by ${node.op_type}, not a constant` };
      const inner = sourceOf(source.scope, node.input[0]);
      if (inner.kind !== "initializer") return { ok: false, reason: "weight is a Transpose of a value that is not a constant" };
      const perm = node.attribute.find((a) => a.name === "perm")?.ints.map(int64ToNumber);
      if (perm && !(perm.length === 2 && perm[0] === 1 && perm[1] === 0)) {
        return { ok: false, reason: `weight is a Transpose with perm [${perm.join(",")}]` };
      }
      return initializerWeight(inner.tensor, inner.scope, inner.overridable, "NK", { node, graph: source.scope.graph });
    }
    case "input":
      return { ok: false, reason: "weight is a graph input" };
    case "sparse":
      return { ok: false, reason: "weight is a sparse initializer" };
    default:
      return { ok: false, reason: `weight "${name}" is not defined` };
  }
}

function initializerWeight(
  tensor: TensorProto,
  scope: Scope,
  overridable: boolean,
  layout: WeightLayout,
  transpose: { node: NodeProto; graph: GraphProto } | null,
): Weight {
  if (overridable) return { ok: false, reason: "weight initializer is also a graph input, so callers may override it" };
  const shape = tensor.dims.map(int64ToNumber);
  if (shape.length !== 2) return { ok: false, reason: `weight is ${shape.length}-D ([${shape.join(",")}]), not 2-D` };
  if (tensor.data_type !== DataType.FLOAT && tensor.data_type !== DataType.FLOAT16) {
    return { ok: false, reason: `weight type ${tensor.data_type} is not float32 or float16` };
  }
  const [rows, cols] = shape;
  const [k, n] = layout === "KN" ? [rows, cols] : [cols, rows];
  return { ok: true, tensor, owner: scope.graph, layout, transpose, k, n };
}

/** Every name any node reads, in any graph of the model, plus every graph's outputs. */
export function namesInUse(model: ModelProto): Set<string> {
  const used = new Set<string>();
  const visitGraph = (graph: GraphProto): void =>
    forEachGraph(graph, (g) => {
      for (const n of g.node) for (const i of n.input) used.add(i);
      for (const o of g.output) used.add(o.name);
    });
  if (model.graph) visitGraph(model.graph);
  for (const f of model.functions) {
    for (const n of f.node) {
      for (const i of n.input) used.add(i);
      subgraphsOf(n).forEach(visitGraph);
    }
  }
  return used;
}

/** Every name defined or referenced anywhere, so new tensors can be given names nothing else has. */
export function allNames(model: ModelProto): Set<string> {
  const names = namesInUse(model);
  if (model.graph) {
    forEachGraph(model.graph, (g) => {
      for (const t of g.initializer) names.add(t.name);
      for (const v of [...g.input, ...g.output, ...g.value_info]) names.add(v.name);
      for (const n of g.node) for (const o of n.output) names.add(o);
    });
  }
  return names;
}

export function uniqueName(taken: Set<string>, base: string): string {
  let name = base;
  for (let i = 1; taken.has(name); i++) name = `${base}_${i}`;
  taken.add(name);
  return name;
}
