/**
 * The main graph as the fusion matcher reads it: who produces each value,
 * who consumes it, which values are constants and what they hold. Only the
 * top-level graph: a decoder whose layers sit inside If/Loop bodies (a
 * merged decoder) is not one this fusion recognises.
 */
import { DataType, int64ToNumber, type GraphProto, type NodeProto, type TensorProto } from "../onnx-proto.ts";
import { dims, tensorBytes } from "../tensor-data.ts";

export interface GraphIndex {
  graph: GraphProto;
  /** Folder the model's external data resolves against. */
  dir: string;
  producer: Map<string, NodeProto>;
  consumers: Map<string, NodeProto[]>;
  initializers: Map<string, TensorProto>;
  /** Graph inputs that are not initializers: what callers feed. */
  inputs: Set<string>;
  outputs: Set<string>;
}

export function indexGraph(graph: GraphProto, dir: string): GraphIndex {
  const producer = new Map<string, NodeProto>();
  const consumers = new Map<string, NodeProto[]>();
  for (const node of graph.node) {
    for (const o of node.output) if (o) producer.set(o, node);
    for (const i of node.input) {
      if (!i) continue;
      const list = consumers.get(i);
      if (list) list.push(node);
      else consumers.set(i, [node]);
    }
  }
  const initializers = new Map(graph.initializer.map((t) => [t.name, t]));
  return {
    graph,
    dir,
    producer,
    consumers,
    initializers,
    inputs: new Set(graph.input.map((v) => v.name).filter((n) => !initializers.has(n))),
    outputs: new Set(graph.output.map((v) => v.name)),
  };
}

export function isOp(node: NodeProto | undefined, opType: string): node is NodeProto {
  return node !== undefined && hasOp(node, opType);
}

/** isOp without narrowing, for tests whose false branch must still see a node. */
export function hasOp(node: NodeProto, opType: string): boolean {
  return node.op_type === opType && ["", "ai.onnx"].includes(node.domain ?? "");
}

export function consumersOf(index: GraphIndex, name: string): NodeProto[] {
  return index.consumers.get(name) ?? [];
}

export function intAttr(node: NodeProto, name: string): number | undefined {
  const a = node.attribute.find((x) => x.name === name);
  return a?.i === undefined || a.i === null ? undefined : int64ToNumber(a.i);
}

export function intsAttr(node: NodeProto, name: string): number[] | undefined {
  return node.attribute.find((x) => x.name === name)?.ints.map(int64ToNumber);
}

/**
 * A constant's tensor: an initializer callers cannot override, or the
 * `value` of a Constant node, also behind Identity nodes (torch's exporter
 * keeps one copy of equal weights, e.g. the all-ones RMSNorm weights of a
 * freshly initialised model, and reads the others through Identity).
 * Null for anything computed or fed.
 */
export function constantTensor(index: GraphIndex, name: string): TensorProto | null {
  const init = index.initializers.get(name);
  if (init) return index.graph.input.some((v) => v.name === name) ? null : init;
  const node = index.producer.get(name);
  if (!node) return null;
  if (hasOp(node, "Identity")) return constantTensor(index, node.input[0]);
  if (!hasOp(node, "Constant")) return null;
  return node.attribute.find((a) => a.name === "value")?.t ?? null;
}

/**
 * A small constant's values as numbers (float, double, int32, int64), also
 * from a Constant's value_float(s) / value_int(s); null when `name` is not
 * a constant of those types.
 */
export function constantNumbers(index: GraphIndex, name: string): number[] | null {
  const node = index.producer.get(name);
  if (isOp(node, "Constant")) {
    for (const a of node.attribute) {
      if (a.name === "value_float" && a.f !== undefined) return [a.f];
      if (a.name === "value_int" && a.i !== undefined) return [int64ToNumber(a.i)];
      if (a.name === "value_ints") return a.ints.map(int64ToNumber);
      if (a.name === "value_floats") return [...((a as unknown as { floats: number[] }).floats ?? [])];
    }
  }
  const tensor = constantTensor(index, name);
  return tensor ? tensorNumbers(tensor, index.dir) : null;
}

export function tensorNumbers(tensor: TensorProto, dir: string): number[] | null {
  const count = dims(tensor).reduce((a, b) => a * b, 1);
  // Typed fields first: a Constant may carry them instead of raw_data.
  if (!tensor.raw_data?.length && tensor.data_location !== 1) {
    if (tensor.data_type === DataType.FLOAT && tensor.float_data.length === count) return [...tensor.float_data];
    if (tensor.data_type === DataType.DOUBLE && tensor.double_data.length === count) return [...tensor.double_data];
    if (tensor.data_type === DataType.INT64 && tensor.int64_data.length === count) return tensor.int64_data.map(int64ToNumber);
    if (tensor.data_type === INT32 && tensor.int32_data.length === count) return [...tensor.int32_data];
  }
  const bytes = tensorBytes(tensor, dir);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: number[] = [];
  for (let i = 0; i < count; i++) {
    switch (tensor.data_type) {
      case DataType.FLOAT:
        out.push(view.getFloat32(i * 4, true));
        break;
      case DataType.DOUBLE:
        out.push(view.getFloat64(i * 8, true));
        break;
      case DataType.INT64:
        out.push(Number(view.getBigInt64(i * 8, true)));
        break;
      case INT32:
        out.push(view.getInt32(i * 4, true));
        break;
      default:
        return null;
    }
  }
  return out;
}

const INT32 = 6;

/** A constant holding one value (any shape with one element): its value, else null. */
export function scalarConstant(index: GraphIndex, name: string): number | null {
  const values = constantNumbers(index, name);
  return values && values.length === 1 ? values[0] : null;
}

/**
 * The value behind Casts to float: in a float32 decoder a Cast to FLOAT of
 * the residual stream is the identity (torch exports wrap every RMSNorm in
 * them), so two names that differ only by such Casts carry the same values.
 */
export function throughFloatCasts(index: GraphIndex, name: string): string {
  let current = name;
  for (let node = index.producer.get(current); isOp(node, "Cast") && intAttr(node, "to") === DataType.FLOAT; node = index.producer.get(current)) {
    current = node.input[0];
  }
  return current;
}
