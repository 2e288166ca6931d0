/**
 * Rebuilds a matched decoder (decoder-match.ts) in the layout onnxruntime-
 * genai's model builder emits for the CPU EP, node for node:
 *
 *   attention_mask -> ReduceSum - 1 -> Cast int32      = seqlens_k [B, 1]
 *   attention_mask -> Shape -> Gather 1 -> Cast int32  = total_sequence_length
 *   Gather(embedding, input_ids)
 *   per layer: (Skip)SimplifiedLayerNormalization, one packed q|k|v MatMul
 *     (+ Add of the packed bias), GroupQueryAttention (do_rotary=1 from
 *     cos/sin caches), o_proj MatMul, SkipSimplifiedLayerNormalization,
 *     gate/up MatMuls (or, with packGateUp, one MatMul and a Split),
 *     Sigmoid, Mul, Mul, down MatMul
 *   SkipSimplifiedLayerNormalization (final norm), LM head MatMul
 *
 * plus, beyond the model builder, one output pair per layer that the server
 * reads at decode instead of the whole present: new_key_values.N.key/value
 * [B, kvH, S, D], the S positions this run wrote, gathered from present at
 * seqlens_k - S + 1 + [0, S) (GatherElements on axis 2). A decode step then
 * hands only those positions back across onnxruntime-node, which copies
 * every output it returns (the presents at batch 16 cost a third of a
 * step); the server keeps the full cache in its own buffer and feeds it as
 * the past, which GroupQueryAttention reads up to each row's seqlens_k.
 * Rows of a right-padded prefill are shorter than S: their entries there
 * are not the new positions, and the server takes the presents instead.
 *
 * Each residual Add is the "input + skip" sum a SkipSimplifiedLayerNormalization
 * already computes (its 4th output), so no Add is left. The graph keeps the
 * original's input and output names and types; position_ids goes, since
 * GroupQueryAttention derives positions from seqlens_k. Weights that are not
 * packed are the original initializers, reused as they are (a Transpose'd
 * tied LM head keeps its Transpose, which ORT folds at load).
 */
import {
  DataType,
  GraphProtoType,
  int64ToNumber,
  ModelProtoType,
  newOpsetId,
  ValueInfoProtoType,
  type ModelProto,
  type TensorProto,
  type ValueInfoProto,
} from "../onnx-proto.ts";
import { readFloatWeights } from "../tensor-data.ts";
import type { DecoderConfig } from "./decoder-config.ts";
import type { DecoderSpec, LayerSpec, Projection } from "./decoder-match.ts";
import { floatAttribute, GraphBuilder, intAttribute, MS_DOMAIN, intsAttribute } from "./graph-builder.ts";
import type { GraphIndex } from "./graph-index.ts";
import type { ResolvedWeight } from "./graph-walk-weights.ts";
import { ropeCaches } from "./rope-cache.ts";

export interface FuseLayoutOptions {
  /** gate and up as one [H, 2I] MatMul and a Split (fuse-model.ts layoutFor says when, and why). */
  packGateUp: boolean;
}

export function buildFusedModel(original: ModelProto, index: GraphIndex, spec: DecoderSpec, config: DecoderConfig, options: FuseLayoutOptions): ModelProto {
  const graph = original.graph!;
  const keptInputs = graph.input.filter((v) => v.name !== "position_ids" && index.inputs.has(v.name));
  const taken = new Set<string>([...keptInputs.map((v) => v.name), ...graph.output.map((v) => v.name)]);
  for (const t of graph.initializer) taken.add(t.name);
  const b = new GraphBuilder(taken);
  const weights = new WeightInputs(b);

  const maskType = elemType(graph.input.find((v) => v.name === spec.attentionMask) as TypedValue | undefined) ?? DataType.INT64;
  const one = b.intConstant("/model/constants/TensorProto.INT64/1D/1", [1], [1], maskType);
  const sum = b.op("ReduceSum", [spec.attentionMask, one], "/model/attn_mask_reformat/attn_mask_subgraph/ReduceSum");
  const lastIndex = b.op("Sub", [sum, one], "/model/attn_mask_reformat/attn_mask_subgraph/Sub");
  const seqlensK = b.op("Cast", [lastIndex], "/model/attn_mask_reformat/attn_mask_subgraph/Sub/Cast", [intAttribute("to", INT32)]);
  const shape = b.op("Shape", [spec.attentionMask], "/model/attn_mask_reformat/attn_mask_subgraph/Shape");
  const axis1 = b.intConstant("/model/constants/TensorProto.INT64/0D/1", [], [1]);
  const total = b.op("Gather", [shape, axis1], "/model/attn_mask_reformat/attn_mask_subgraph/Gather", [intAttribute("axis", 0)]);
  const totalLength = b.op("Cast", [total], "/model/attn_mask_reformat/attn_mask_subgraph/Gather/Cast", [intAttribute("to", INT32)]);

  const newIndex = newPositionIndex(b, spec.inputIds, lastIndex, maskType, config);
  const newOutputs: ValueInfoProto[] = [];

  const rope = ropeCaches(config.ropeTheta, config.headDim, config.maxPositions);
  const cos = b.floats("cos_cache", [rope.rows, rope.width], rope.cos);
  const sin = b.floats("sin_cache", [rope.rows, rope.width], rope.sin);

  let residual = b.op("Gather", [b.use(spec.embedding), spec.inputIds], "/model/embed_tokens/Gather");
  let branch: string | null = null; // the last block's output, not yet added to the residual
  const norm = (weight: TensorProto, epsilon: number, name: string, last = false): string => {
    const eps = floatAttribute("epsilon", epsilon);
    if (branch === null) {
      return b.op("SimplifiedLayerNormalization", [residual, b.use(weight)], `${name}/LayerNorm`, [eps, intAttribute("axis", -1), intAttribute("stash_type", 1)]);
    }
    const out = b.name(`${name}/output_0`);
    const outputs = last ? [out] : [out, "", "", b.name(`${name}/output_3`)];
    b.node("SkipSimplifiedLayerNormalization", [residual, branch, b.use(weight)], outputs, `${name}/SkipLayerNorm`, [eps], MS_DOMAIN);
    if (!last) residual = outputs[3];
    return out;
  };

  spec.layers.forEach((layer, i) => {
    const at = `/model/layers.${i}`;
    const x = norm(layer.inputNorm.weight, layer.inputNorm.epsilon, `${at}/input_layernorm`);
    let qkv = b.op("MatMul", [x, packedQkv(b, index.dir, layer, i)], `${at}/attn/qkv_proj/MatMul`);
    const bias = packedBias(b, index.dir, layer, i);
    if (bias) qkv = b.op("Add", [qkv, bias], `${at}/attn/qkv_proj/Add`);
    const attention = b.name(`${at}/attn/GroupQueryAttention/output_0`);
    b.node(
      "GroupQueryAttention",
      [qkv, "", "", layer.pastKey, layer.pastValue, seqlensK, totalLength, cos, sin],
      [attention, layer.presentKey, layer.presentValue],
      `${at}/attn/GroupQueryAttention`,
      [
        intAttribute("num_heads", config.numHeads),
        intAttribute("kv_num_heads", config.numKvHeads),
        floatAttribute("scale", 1 / Math.sqrt(config.headDim)),
        floatAttribute("softcap", 0),
        intAttribute("do_rotary", 1),
        intAttribute("rotary_interleaved", 0),
      ],
      MS_DOMAIN,
    );
    for (const [present, kind] of [[layer.presentKey, "key"], [layer.presentValue, "value"]] as const) {
      const name = `${NEW_KV_PREFIX}${i}.${kind}`;
      b.node("GatherElements", [present, newIndex], [name], `${at}/attn/new_${kind}/GatherElements`, [intAttribute("axis", 2)]);
      newOutputs.push(newPositionsOutput(graph.output.find((o) => o.name === present), name));
    }
    branch = b.op("MatMul", [attention, weights.input(layer.o)], `${at}/attn/o_proj/MatMul`);
    const y = norm(layer.postNorm.weight, layer.postNorm.epsilon, `${at}/post_attention_layernorm`);
    const [gate, up] = options.packGateUp ? packedGateUp(b, index.dir, layer, y, i, config.intermediateSize) : [
      b.op("MatMul", [y, weights.input(layer.gate)], `${at}/mlp/gate_proj/MatMul`),
      b.op("MatMul", [y, weights.input(layer.up)], `${at}/mlp/up_proj/MatMul`),
    ];
    const sigmoid = b.op("Sigmoid", [gate], `${at}/mlp/act_fn/Sigmoid`);
    const silu = b.op("Mul", [gate, sigmoid], `${at}/mlp/act_fn/Mul`);
    const product = b.op("Mul", [silu, up], `${at}/mlp/Mul`);
    branch = b.op("MatMul", [product, weights.input(layer.down)], `${at}/mlp/down_proj/MatMul`);
  });

  const final = norm(spec.finalNorm.weight, spec.finalNorm.epsilon, `/model/layers.${spec.layers.length}/final_norm_layernorm`, true);
  b.node("MatMul", [final, weights.input(spec.lmHead)], [spec.logits], "/lm_head/MatMul");

  const opsets = original.opset_import.filter((o) => (o.domain ?? "") !== "" && o.domain !== "ai.onnx" && o.domain !== MS_DOMAIN);
  const onnxVersion = Math.max(14, ...original.opset_import.filter((o) => (o.domain ?? "") === "" || o.domain === "ai.onnx").map((o) => int64ToNumber(o.version)));
  const fusedGraph = GraphProtoType.create({
    name: graph.name,
    node: b.nodes,
    initializer: b.initializers,
    input: keptInputs,
    output: [...graph.output, ...newOutputs],
    doc_string: (graph as { doc_string?: string }).doc_string,
  });
  return ModelProtoType.create({
    ir_version: original.ir_version,
    producer_name: original.producer_name,
    producer_version: (original as { producer_version?: string }).producer_version,
    domain: (original as { domain?: string }).domain,
    model_version: (original as { model_version?: unknown }).model_version,
    doc_string: (original as { doc_string?: string }).doc_string,
    metadata_props: (original as { metadata_props?: unknown[] }).metadata_props,
    opset_import: [newOpsetId("", onnxVersion), newOpsetId(MS_DOMAIN, 1), ...opsets],
    graph: fusedGraph,
  }) as unknown as ModelProto;
}

const INT32 = 6;
const INT64 = 7;

/** The outputs a decode step fetches instead of the presents (see the header); the server looks for this name. */
export const NEW_KV_PREFIX = "new_key_values.";

/**
 * GatherElements indices [B, kvH, S, D] of the positions a run wrote in
 * present: seqlens_k - S + 1 + s for s in [0, S), the same on every head
 * and channel.
 */
function newPositionIndex(b: GraphBuilder, inputIds: string, lastIndex: string, maskType: number, config: DecoderConfig): string {
  const at = "/model/new_positions";
  const last = maskType === INT64 ? lastIndex : b.op("Cast", [lastIndex], `${at}/Cast`, [intAttribute("to", INT64)]);
  const idsShape = b.op("Shape", [inputIds], `${at}/Shape`);
  const seqAxis = b.intConstant(`${at}/constants/1`, [], [1]);
  const steps = b.op("Gather", [idsShape, seqAxis], `${at}/Gather`, [intAttribute("axis", 0)]);
  const zero = b.intConstant(`${at}/constants/zero`, [], [0]);
  const one = b.intConstant(`${at}/constants/one`, [], [1]);
  const firstMinusOne = b.op("Sub", [last, steps], `${at}/Sub`);
  const first = b.op("Add", [firstMinusOne, one], `${at}/Add`);
  const offsets = b.op("Range", [zero, steps, one], `${at}/Range`);
  const positions = b.op("Add", [first, offsets], `${at}/Positions`); // [B, 1] + [S] = [B, S]
  const axes = b.intConstant(`${at}/constants/axes`, [2], [1, 3]);
  const column = b.op("Unsqueeze", [positions, axes], `${at}/Unsqueeze`); // [B, 1, S, 1]
  const spread = b.intConstant(`${at}/constants/spread`, [4], [1, config.numKvHeads, 1, config.headDim]);
  return b.op("Expand", [column, spread], `${at}/Expand`);
}

/** The present's declared type, with the new positions' own name and sequence dim. */
function newPositionsOutput(present: ValueInfoProto | undefined, name: string): ValueInfoProto {
  const dims = ["batch_size", "num_key_value_heads", "sequence_length", "head_size"].map((p) => ({ dim_param: p }));
  return ValueInfoProtoType.create({
    name,
    type: { tensor_type: { elem_type: elemType(present as TypedValue | undefined) ?? DataType.FLOAT, shape: { dim: dims } } },
  }) as unknown as ValueInfoProto;
}

type TypedValue = { type?: { tensor_type?: { elem_type?: number } } };

function elemType(v: TypedValue | undefined): number | undefined {
  return v?.type?.tensor_type?.elem_type;
}

/** The MatMul B input for a reused weight: its initializer, or the Transpose it sat behind. */
class WeightInputs {
  private readonly transposed = new Map<TensorProto, string>();
  constructor(private readonly b: GraphBuilder) {}

  input(w: ResolvedWeight): string {
    const name = this.b.use(w.tensor);
    if (!w.transpose) return name;
    let out = this.transposed.get(w.tensor);
    if (!out) {
      out = this.b.op("Transpose", [name], `/model/${w.tensor.name}/Transpose`, [intsAttribute("perm", [1, 0])]);
      this.transposed.set(w.tensor, out);
    }
    return out;
  }
}

/** A weight as MatMul's B, [K][N] float32, whichever way it is stored. */
function kn(w: ResolvedWeight, dir: string): Float32Array {
  const values = readFloatWeights(w.tensor, dir);
  if (!values) throw new Error(`weight "${w.tensor.name}" is not float`);
  if (w.layout === "KN") return values;
  const out = new Float32Array(w.k * w.n);
  for (let r = 0; r < w.n; r++) for (let c = 0; c < w.k; c++) out[c * w.n + r] = values[r * w.k + c];
  return out;
}

/** [K][N1] | [K][N2] | ... side by side: [K][N1 + N2 + ...]. */
function concatColumns(parts: Array<{ values: Float32Array; n: number }>, k: number): Float32Array {
  const total = parts.reduce((s, p) => s + p.n, 0);
  const out = new Float32Array(k * total);
  let offset = 0;
  for (const p of parts) {
    for (let r = 0; r < k; r++) out.set(p.values.subarray(r * p.n, (r + 1) * p.n), r * total + offset);
    offset += p.n;
  }
  return out;
}

function packedQkv(b: GraphBuilder, dir: string, layer: LayerSpec, i: number): string {
  const parts = [layer.q, layer.k, layer.v].map((p) => ({ values: kn(p.weight, dir), n: p.weight.n }));
  const k = layer.q.weight.k;
  const n = parts.reduce((s, p) => s + p.n, 0);
  return b.floats(`model.layers.${i}.attn.qkv_proj.MatMul.weight`, [k, n], concatColumns(parts, k));
}

/** q|k|v biases packed like the weights, zeros where a projection has none; null when none has one. */
function packedBias(b: GraphBuilder, dir: string, layer: LayerSpec, i: number): string | null {
  const projections: Projection[] = [layer.q, layer.k, layer.v];
  if (projections.every((p) => p.bias === null)) return null;
  const n = projections.reduce((s, p) => s + p.weight.n, 0);
  const out = new Float32Array(n);
  let offset = 0;
  for (const p of projections) {
    if (p.bias) out.set(readFloatWeights(p.bias, dir)!, offset);
    offset += p.weight.n;
  }
  return b.floats(`model.layers.${i}.attn.qkv_proj.Add.bias`, [n], out);
}

function packedGateUp(b: GraphBuilder, dir: string, layer: LayerSpec, y: string, i: number, size: number): [string, string] {
  const at = `/model/layers.${i}`;
  const k = layer.gate.k;
  const weight = b.floats(
    `model.layers.${i}.mlp.gate_up_proj.MatMul.weight`,
    [k, 2 * size],
    concatColumns([layer.gate, layer.up].map((w) => ({ values: kn(w, dir), n: w.n })), k),
  );
  const both = b.op("MatMul", [y, weight], `${at}/mlp/gate_up_proj/MatMul`);
  const split = b.intConstant(`${at}/mlp/gate_up_split`, [2], [size, size]);
  const gate = b.name(`${at}/mlp/gate_proj/output_0`);
  const up = b.name(`${at}/mlp/up_proj/output_0`);
  b.node("Split", [both, split], [gate, up], `${at}/mlp/gate_up_proj/Split`, [intAttribute("axis", -1)]);
  return [gate, up];
}
