/**
 * Visits every graph and every tensor of a model: the main graph, the
 * subgraphs held by node attributes (If/Loop/Scan bodies), model-local
 * function bodies and training graphs. The reader uses it to find external
 * data, the writer to place every tensor's bytes, the rewrite to find names.
 */
import type { AttributeProto, GraphProto, ModelProto, NodeProto, TensorProto } from "./onnx-proto.ts";

interface SparseTensor {
  values?: TensorProto;
  indices?: TensorProto;
}

interface TrainingInfo {
  initialization?: GraphProto;
  algorithm?: GraphProto;
}

export function subgraphsOf(node: NodeProto): GraphProto[] {
  const graphs: GraphProto[] = [];
  for (const a of node.attribute) {
    if (a.g) graphs.push(a.g);
    for (const g of a.graphs ?? []) graphs.push(g);
  }
  return graphs;
}

/** Every graph under `graph`, itself first, each with the chain of graphs enclosing it (outermost first). */
export function forEachGraph(graph: GraphProto, visit: (graph: GraphProto, outer: GraphProto[]) => void, outer: GraphProto[] = []): void {
  visit(graph, outer);
  for (const node of graph.node) {
    for (const sub of subgraphsOf(node)) forEachGraph(sub, visit, [...outer, graph]);
  }
}

function attributeTensors(a: AttributeProto): TensorProto[] {
  const out: TensorProto[] = [];
  if (a.t) out.push(a.t);
  for (const t of (a as AttributeProto & { tensors?: TensorProto[] }).tensors ?? []) out.push(t);
  const sparse = a as AttributeProto & { sparse_tensor?: SparseTensor; sparse_tensors?: SparseTensor[] };
  for (const s of [sparse.sparse_tensor, ...(sparse.sparse_tensors ?? [])]) {
    if (s?.values) out.push(s.values);
    if (s?.indices) out.push(s.indices);
  }
  return out;
}

function nodeTensors(nodes: NodeProto[], visit: (tensor: TensorProto) => void): void {
  for (const node of nodes) for (const a of node.attribute) attributeTensors(a).forEach(visit);
}

function graphTensors(root: GraphProto, visit: (tensor: TensorProto) => void): void {
  forEachGraph(root, (graph) => {
    graph.initializer.forEach(visit);
    for (const s of graph.sparse_initializer as SparseTensor[]) {
      if (s.values) visit(s.values);
      if (s.indices) visit(s.indices);
    }
    nodeTensors(graph.node, visit);
  });
}

/** Every TensorProto the model holds, wherever it sits. */
export function forEachTensor(model: ModelProto, visit: (tensor: TensorProto) => void): void {
  if (model.graph) graphTensors(model.graph, visit);
  for (const f of model.functions) {
    for (const node of f.node) {
      nodeTensors([node], visit);
      for (const sub of subgraphsOf(node)) graphTensors(sub, visit);
    }
  }
  for (const info of model.training_info as TrainingInfo[]) {
    if (info.initialization) graphTensors(info.initialization, visit);
    if (info.algorithm) graphTensors(info.algorithm, visit);
  }
}
