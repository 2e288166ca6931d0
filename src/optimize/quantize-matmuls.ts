/**
 * The rewrite: every MatMul whose weight is a constant (see
 * graph-queries.ts resolveWeight) becomes a com.microsoft.MatMulNBits node
 * in the same place, reading the same activation and writing the same
 * output. Anything else is left exactly as it was and reported with the
 * reason. A weight shared by several MatMuls is quantized once; the float
 * weight stays while anything else (an embedding Gather, say) still reads
 * it, so a tied LM head gets its own quantized copy and the Gather stays
 * float.
 */
import { quantizeMatrix, zeroPointRowBytes, type BlockFormat, type QuantizedMatrix } from "./block-quantizer.ts";
import { forEachGraph } from "./graph-walk.ts";
import { allNames, namesInUse, resolveWeight, scopeOf, uniqueName, type Scope } from "./graph-queries.ts";
import { floatToHalfBits, roundToHalf } from "./half.ts";
import {
  DataType,
  intAttribute,
  newNode,
  newOpsetId,
  newTensor,
  type GraphProto,
  type ModelProto,
  type NodeProto,
  type TensorProto,
} from "./onnx-proto.ts";

export const MS_DOMAIN = "com.microsoft";

export interface QuantizeOptions extends BlockFormat {
  /** MatMulNBits accuracy_level: 4 = int8 compute (quantizes A per block internally). */
  accuracyLevel: number;
}

export interface QuantizedMatMul {
  node: string;
  weight: string;
  k: number;
  n: number;
  /** Bytes of the float weight it read, and of its packed weight, scales and zero points. */
  floatBytes: number;
  quantizedBytes: number;
  /** The weight was already quantized for an earlier MatMul and is shared. */
  shared: boolean;
}

export interface LeftMatMul {
  node: string;
  reason: string;
}

export interface RewriteReport {
  quantized: QuantizedMatMul[];
  left: LeftMatMul[];
  /** Float initializers no longer read by anything, removed from the output. */
  removedInitializers: string[];
}

/** Reads a weight initializer as float32 values (float16 widened); null when it cannot. */
export type WeightReader = (tensor: TensorProto) => Float32Array | null;

interface QuantizedWeight {
  inputs: string[];
  bytes: number;
}

export function quantizeMatMuls(model: ModelProto, readWeights: WeightReader, options: QuantizeOptions): RewriteReport {
  const report: RewriteReport = { quantized: [], left: [], removedInitializers: [] };
  if (!model.graph) return report;
  const taken = allNames(model);
  const cache = new Map<TensorProto, Map<string, QuantizedWeight>>();
  const bypassed: Array<{ node: NodeProto; graph: GraphProto }> = [];
  const candidates: Array<{ tensor: TensorProto; graph: GraphProto }> = [];
  const scopes = new Map<GraphProto, Scope>();

  forEachGraph(model.graph, (graph, outer) => {
    const parent = outer.length ? scopes.get(outer[outer.length - 1])! : null;
    const scope = scopeOf(graph, parent);
    scopes.set(graph, scope);
    graph.node.forEach((node, index) => {
      if (node.op_type !== "MatMul" || !["", "ai.onnx"].includes(node.domain ?? "")) return;
      const label = node.name || `MatMul -> ${node.output[0]}`;
      const weight = resolveWeight(scope, node.input[1]);
      if (!weight.ok) {
        report.left.push({ node: label, reason: weight.reason });
        return;
      }
      const { tensor, layout, k, n } = weight;
      let perLayout = cache.get(tensor);
      if (!perLayout) cache.set(tensor, (perLayout = new Map()));
      let q = perLayout.get(layout);
      const shared = q !== undefined;
      if (!q) {
        const values = readWeights(tensor);
        if (!values) {
          report.left.push({ node: label, reason: `weight "${tensor.name}" cannot be read as floats` });
          return;
        }
        q = addQuantizedWeight(weight.owner, taken, tensor, quantizeMatrix(values, k, n, layout, options, roundingFor(tensor)), options);
        perLayout.set(layout, q);
      }
      graph.node[index] = matMulNBits(node, [node.input[0], ...q.inputs], k, n, options);
      if (weight.transpose) bypassed.push(weight.transpose);
      candidates.push({ tensor, graph: weight.owner });
      const elementBytes = tensor.data_type === DataType.FLOAT16 ? 2 : 4;
      report.quantized.push({ node: label, weight: tensor.name, k, n, floatBytes: k * n * elementBytes, quantizedBytes: q.bytes, shared });
    });
  });

  // Model-local function bodies see their weights only as function inputs: nothing to quantize there.
  for (const f of model.functions) {
    for (const node of f.node) {
      if (node.op_type === "MatMul") report.left.push({ node: `${f.name}/${node.name || node.output[0]}`, reason: "inside a model-local function, not rewritten" });
    }
  }

  if (report.quantized.length > 0) {
    report.removedInitializers = removeDeadWeights(model, bypassed, candidates);
    if (!model.opset_import.some((o) => o.domain === MS_DOMAIN)) model.opset_import.push(newOpsetId(MS_DOMAIN, 1));
  }
  return report;
}

/** Scales are stored in the weight's own float type; codes are chosen against the stored value. */
function roundingFor(tensor: TensorProto): (x: number) => number {
  return tensor.data_type === DataType.FLOAT16 ? roundToHalf : Math.fround;
}

function addQuantizedWeight(owner: GraphProto, taken: Set<string>, source: TensorProto, q: QuantizedMatrix, options: QuantizeOptions): QuantizedWeight {
  const base = source.name;
  const packed = newTensor({
    name: uniqueName(taken, `${base}_Q${options.bits}`),
    dims: [q.n, q.kBlocks, q.blobSize],
    data_type: DataType.UINT8,
    raw_data: q.packed,
  });
  const scaleBytes =
    source.data_type === DataType.FLOAT16
      ? new Uint8Array(Uint16Array.from(q.scales, floatToHalfBits).buffer)
      : new Uint8Array(q.scales.buffer, q.scales.byteOffset, q.scales.byteLength);
  const scales = newTensor({ name: uniqueName(taken, `${base}_scales`), dims: [q.n, q.kBlocks], data_type: source.data_type, raw_data: scaleBytes });
  const added = [packed, scales];
  if (q.zeroPoints) {
    added.push(
      newTensor({
        name: uniqueName(taken, `${base}_zero_points`),
        dims: [q.n, zeroPointRowBytes(q.kBlocks, options.bits)],
        data_type: DataType.UINT8,
        raw_data: q.zeroPoints,
      }),
    );
  }
  owner.initializer.push(...added);
  return { inputs: added.map((t) => t.name), bytes: added.reduce((sum, t) => sum + (t.raw_data?.length ?? 0), 0) };
}

function matMulNBits(original: NodeProto, inputs: string[], k: number, n: number, options: QuantizeOptions): NodeProto {
  return newNode({
    input: inputs,
    output: [...original.output],
    name: original.name ? `${original.name}_Q${options.bits}` : "",
    op_type: "MatMulNBits",
    domain: MS_DOMAIN,
    attribute: [
      intAttribute("K", k),
      intAttribute("N", n),
      intAttribute("bits", options.bits),
      intAttribute("block_size", options.blockSize),
      intAttribute("accuracy_level", options.accuracyLevel),
    ],
  });
}

/**
 * Removes what the rewrite made dead, and nothing else: the Transposes it
 * bypassed, then the float weights nothing reads any more (with their
 * value_info entries). Dead parts the input already had stay as they were.
 */
function removeDeadWeights(
  model: ModelProto,
  bypassed: Array<{ node: NodeProto; graph: GraphProto }>,
  candidates: Array<{ tensor: TensorProto; graph: GraphProto }>,
): string[] {
  let used = namesInUse(model);
  const dropValueInfo = (graph: GraphProto, names: Set<string>): void => {
    graph.value_info = graph.value_info.filter((v) => !names.has(v.name));
  };
  const deadTransposes = new Set(bypassed.filter(({ node }) => !node.output.some((o) => used.has(o))).map(({ node }) => node));
  if (deadTransposes.size > 0) {
    for (const { node, graph } of bypassed) {
      if (!deadTransposes.has(node)) continue;
      graph.node = graph.node.filter((x) => x !== node);
      dropValueInfo(graph, new Set(node.output));
    }
    used = namesInUse(model);
  }
  const removed: string[] = [];
  for (const { tensor, graph } of candidates) {
    if (used.has(tensor.name) || !graph.initializer.includes(tensor)) continue;
    graph.initializer = graph.initializer.filter((t) => t !== tensor);
    dropValueInfo(graph, new Set([tensor.name]));
    removed.push(tensor.name);
  }
  return removed;
}
