/**
 * The model's inputs and outputs as its ONNX session reports them: names,
 * dtypes and KV layout are read from session metadata, never guessed from
 * config files (the Llama-fp32 fixture's genai_config lists a position_ids
 * input the graph does not have).
 */
import type { InferenceSession } from "onnxruntime-node";
import { ModelLoadError } from "../model/model-load-error.ts";
import type { ModelFolder } from "../model/model-folder.ts";

export type IdsDtype = "int32" | "int64";
export type FloatDtype = "float32" | "float16";

export interface KvPair {
  pastKey: string;
  /** Absent in the stacked layout, where key and value share one tensor. */
  pastValue: string | null;
  presentKey: string;
  presentValue: string | null;
  /**
   * Outputs holding only the positions a run wrote (new_key_values.N.key /
   * .value, which optimize --fuse adds beside GroupQueryAttention's
   * presents); null where the graph has none.
   */
  newKey: string | null;
  newValue: string | null;
}

export interface IoSpec {
  inputIds: { name: string; dtype: IdsDtype };
  attentionMask: { name: string; dtype: IdsDtype } | null;
  positionIds: { name: string; dtype: IdsDtype } | null;
  /** Merged decoders switch between their with- and without-past branches on this. */
  useCacheBranch: string | null;
  logits: { name: string; dtype: FloatDtype; vocabSize: number };
  kv: {
    layout: "separate" | "stacked";
    dtype: FloatDtype;
    heads: number;
    headDim: number;
    layers: KvPair[];
    /** Every layer has newKey/newValue: a decode step can fetch those instead of the presents (decode-batch.ts). */
    newPositions: boolean;
  };
}

type ValueMetadata = InferenceSession.ValueMetadata;

export function readIoSpec(session: InferenceSession, folder: ModelFolder): IoSpec {
  const file = folder.onnxPath;
  const inputs = new Map(session.inputMetadata.map((m) => [m.name, m]));
  const outputs = new Map(session.outputMetadata.map((m) => [m.name, m]));
  const tensorType = (m: ValueMetadata | undefined): string | null => (m && m.isTensor ? m.type : null);
  const idsInput = (name: string, required: boolean): { name: string; dtype: IdsDtype } | null => {
    const type = tensorType(inputs.get(name));
    if (type === null) {
      if (required) throw new ModelLoadError(file, `the graph has no "${name}" input`);
      return null;
    }
    if (type !== "int32" && type !== "int64") throw new ModelLoadError(file, `input "${name}" has unsupported type ${type}`);
    return { name, dtype: type };
  };

  const logitsMeta = outputs.get("logits");
  const logitsType = tensorType(logitsMeta);
  if (logitsType !== "float32" && logitsType !== "float16") {
    throw new ModelLoadError(file, logitsType ? `logits have unsupported type ${logitsType}` : 'the graph has no "logits" output');
  }
  const logitsShape = logitsMeta && logitsMeta.isTensor ? logitsMeta.shape : [];
  const vocabDim = logitsShape[logitsShape.length - 1];
  const vocabSize = typeof vocabDim === "number" ? vocabDim : folder.configVocabSize;
  if (!vocabSize) throw new ModelLoadError(file, "the logits width is symbolic and no vocab_size is configured");

  const kv = readKvLayout(inputs, outputs, folder);
  const known = new Set(["input_ids", "attention_mask", "position_ids", "use_cache_branch"]);
  for (const layer of kv.layers) {
    known.add(layer.pastKey);
    if (layer.pastValue) known.add(layer.pastValue);
  }
  const unknown = [...inputs.keys()].filter((n) => !known.has(n));
  if (unknown.length > 0) throw new ModelLoadError(file, `unsupported graph inputs: ${unknown.join(", ")}`);

  return {
    inputIds: idsInput("input_ids", true)!,
    attentionMask: idsInput("attention_mask", false),
    positionIds: idsInput("position_ids", false),
    useCacheBranch: inputs.has("use_cache_branch") ? "use_cache_branch" : null,
    logits: { name: "logits", dtype: logitsType, vocabSize },
    kv,
  };
}

function readKvLayout(
  inputs: Map<string, ValueMetadata>,
  outputs: Map<string, ValueMetadata>,
  folder: ModelFolder,
): IoSpec["kv"] {
  const file = folder.onnxPath;
  const separate = [...inputs.keys()].filter((n) => /^past_key_values\.\d+\.key$/.test(n));
  const stacked = [...inputs.keys()].filter((n) => /^past_\d+$/.test(n));
  const layerOf = (n: string): number => Number(/\d+/.exec(n)![0]);
  const requireOutput = (name: string): string => {
    if (!outputs.has(name)) throw new ModelLoadError(file, `the graph has no "${name}" output to match its past input`);
    return name;
  };
  let layers: KvPair[];
  let layout: "separate" | "stacked";
  if (separate.length > 0) {
    layout = "separate";
    layers = separate
      .map(layerOf)
      .sort((a, b) => a - b)
      .map((i) => ({
        pastKey: `past_key_values.${i}.key`,
        pastValue: `past_key_values.${i}.value`,
        presentKey: requireOutput(`present.${i}.key`),
        presentValue: requireOutput(`present.${i}.value`),
        newKey: outputs.has(`new_key_values.${i}.key`) ? `new_key_values.${i}.key` : null,
        newValue: outputs.has(`new_key_values.${i}.value`) ? `new_key_values.${i}.value` : null,
      }));
  } else if (stacked.length > 0) {
    layout = "stacked";
    layers = stacked
      .map(layerOf)
      .sort((a, b) => a - b)
      .map((i) => ({ pastKey: `past_${i}`, pastValue: null, presentKey: requireOutput(`present_${i}`), presentValue: null, newKey: null, newValue: null }));
  } else {
    throw new ModelLoadError(file, "no KV-cache inputs (past_key_values.N.key or past_N): only decoders with a cache are served");
  }
  const first = inputs.get(layers[0].pastKey)!;
  if (!first.isTensor || (first.type !== "float32" && first.type !== "float16")) {
    throw new ModelLoadError(file, `KV input "${layers[0].pastKey}" has an unsupported type`);
  }
  // Separate: [batch, heads, past, headDim]; stacked: [2, batch, heads, past, headDim].
  const shape = first.shape;
  const headsDim = shape[shape.length - 3];
  const headDimDim = shape[shape.length - 1];
  const heads = typeof headsDim === "number" ? headsDim : folder.numKeyValueHeads;
  const headDim = typeof headDimDim === "number" ? headDimDim : folder.headDim;
  if (!heads || !headDim) throw new ModelLoadError(file, "KV heads/head size are symbolic and not in the config files");
  const newPositions = layers.every((l) => l.newKey !== null && l.newValue !== null);
  return { layout, dtype: first.type, heads, headDim, layers, newPositions };
}
