/**
 * `optimize --fuse`, from file to file: recognise the decoder, rebuild it
 * in the fused layout, prove the rebuild on probe inputs, then quantize it
 * (q8/q4) and write it. Fusion is all or nothing: when any step says no,
 * the reason is reported and the output is the quantize-only graph (q8/q4)
 * or nothing at all (fp32, whose unfused form is the input itself). A
 * fused file is only ever written after it has matched the original.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readModel, type LoadedModel } from "../model-reader.ts";
import { writeModel } from "../model-writer.ts";
import { encodedModelLength, encodeModel, GraphProtoType, ModelProtoType, newTensor, type ModelProto, type TensorProto } from "../onnx-proto.ts";
import { checkedPaths, EXTERNAL_ABOVE_BYTES, writeOptimized, type OptimizeResult } from "../optimize-model.ts";
import { OptimizeError } from "../optimize-error.ts";
import { quantizeMatMuls, type QuantizeOptions, type RewriteReport } from "../quantize-matmuls.ts";
import { dims, readFloatWeights } from "../tensor-data.ts";
import { readDecoderConfig } from "./decoder-config.ts";
import { matchDecoder } from "./decoder-match.ts";
import { buildFusedModel, type FuseLayoutOptions } from "./fused-graph.ts";
import { verifyFused, type ModelSource, type VerifyReport } from "./fuse-verify.ts";
import { indexGraph } from "./graph-index.ts";

export interface FusionApplied {
  fused: true;
  layers: number;
  packedGateUp: boolean;
  nodesBefore: number;
  nodesAfter: number;
  verification: VerifyReport;
}

export interface FusionRefused {
  fused: false;
  reason: string;
}

export type FusionOutcome = FusionApplied | FusionRefused;

export interface FusedResult extends OptimizeResult {
  fusion: FusionOutcome;
}

/** Contrib ops a fused export already has (attention first: the one named in the report): such a graph is left as it is. */
const FUSED_OPS = ["GroupQueryAttention", "MultiHeadAttention", "Attention", "RotaryEmbedding", "SkipSimplifiedLayerNormalization"];

/**
 * Gate and up: one [H, 2I] MatMul and a Split for q8/q4, two MatMuls (the
 * model builder's layout) for fp32. With accuracy_level 4 each MatMulNBits
 * quantizes its activation to int8 before the product, so one packed node
 * does that once where two did it twice; the quantized weights are the same
 * either way (blocks run along K, per output column). Measured on the
 * 135M-shape model, batch 1, 2 threads, medians of alternating rounds on a
 * shared 2-core machine: q4 20.2 -> 18.3 ms/token, q8 26.0 -> 24.8, batch 16
 * q4 123.9 -> 118.7 ms/step; fp32 56.7 vs 57.2, no gain, so fp32 keeps
 * exactly the builder's layout.
 */
export function layoutFor(quantized: boolean): FuseLayoutOptions {
  return { packGateUp: quantized };
}

export const DEFAULT_LAYOUT: FuseLayoutOptions = layoutFor(false);

/**
 * The fused rebuild of `loaded`, proven against it, or the reason there is
 * none. `loaded` is not modified: the rebuild reuses its tensors read-only.
 */
export async function fuseLoadedModel(
  loaded: LoadedModel,
  layout: FuseLayoutOptions = DEFAULT_LAYOUT,
  inlineLimit = EXTERNAL_ABOVE_BYTES,
): Promise<{ model: ModelProto; outcome: FusionApplied } | FusionRefused> {
  const refused = (reason: string): FusionRefused => ({ fused: false, reason });
  const graph = loaded.model.graph!;
  const already = FUSED_OPS.find((op) => graph.node.some((n) => n.op_type === op && n.domain === "com.microsoft"));
  if (already) return refused(`the graph already uses ONNX Runtime's fused ${already}`);
  const config = readDecoderConfig(loaded.path);
  if (!config.ok) return refused(config.reason);
  const index = indexGraph(graph, loaded.dir);
  const match = matchDecoder(index, config.config);
  if (!match.ok) return refused(match.reason);
  const model = buildFusedModel(loaded.model, index, match.spec, config.config, layout);
  const { numKvHeads: kvHeads, headDim, numLayers: layers } = config.config;
  const vocab = dims(match.spec.embedding)[0];
  const verification = await withVerifiable(model, loaded, inlineLimit, (fused) => verifyFused(loaded.path, fused, { vocab, kvHeads, headDim, layers }));
  if (!verification.ok) return refused(`the fused graph does not compute what the original does: ${verification.reason}`);
  return { model, outcome: { fused: true, layers, packedGateUp: layout.packGateUp, nodesBefore: graph.node.length, nodesAfter: model.graph!.node.length, verification } };
}

/**
 * Hands the fused model to `use` in a form ONNX Runtime can open: encoded
 * in memory (its external tensors found in the input's folder), or, when
 * that protobuf would pass `inlineLimit` (the packed q|k|v weights are new
 * inline tensors; protobuf stops at 2 GB), written with external data to a
 * temporary folder that is removed afterwards. The temporary copy is made
 * of cloned tensor records, so writing it leaves `model` as it was.
 */
async function withVerifiable<T>(model: ModelProto, loaded: LoadedModel, inlineLimit: number, use: (source: ModelSource) => Promise<T>): Promise<T> {
  if (encodedModelLength(model) <= inlineLimit) return use({ bytes: encodeModel(model), dir: loaded.dir });
  const dir = mkdtempSync(join(tmpdir(), "optimize-fuse-"));
  try {
    const copy = ModelProtoType.create({ ...model, graph: GraphProtoType.create({ ...model.graph!, initializer: model.graph!.initializer.map(cloneTensor) }) });
    const written = writeModel(copy as unknown as ModelProto, join(dir, "fused.onnx"), { external: true, sourceDir: loaded.dir });
    return await use(written.path);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function cloneTensor(t: TensorProto): TensorProto {
  return newTensor({ ...t, external_data: [...t.external_data] });
}

/**
 * Fuses (and, given quantize options, quantizes) `inputPath` into
 * `outputPath`. Without quantize options (fp32) a model that cannot be
 * fused is refused with an OptimizeError: there is nothing else to write.
 */
export async function fuseModelFile(inputPath: string, outputPath: string, quantize: QuantizeOptions | null, force = false): Promise<FusedResult> {
  const { input, output } = checkedPaths(inputPath, outputPath, force);
  const loaded = readModel(input);
  const attempt = await fuseLoadedModel(loaded, layoutFor(quantize !== null));
  const fusion: FusionOutcome = "model" in attempt ? attempt.outcome : attempt;
  if (!quantize && !fusion.fused) throw new OptimizeError(input, `not fused: ${fusion.reason}; nothing written`);
  const model = "model" in attempt ? attempt.model : loaded.model;
  let report: RewriteReport = { quantized: [], left: [], removedInitializers: [] };
  if (quantize) {
    report = quantizeMatMuls(model, (tensor) => readFloatWeights(tensor, loaded.dir), quantize);
    if (report.quantized.length === 0) {
      throw new OptimizeError(input, `no MatMul has a constant weight to quantize (${report.left.length} left as they are); nothing written`);
    }
  }
  return { ...writeOptimized(loaded, model, output), report, fusion };
}
