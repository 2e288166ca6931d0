/**
 * The hyper-parameters a fused decoder needs and the graph alone does not
 * say for sure (RoPE base, head counts, the cache length), from the model
 * folder's Hugging Face config.json. Every setting the fused layout cannot
 * express is refused here with its name, before any graph is touched:
 * scaled or partial RoPE, sliding-window attention, activations other than
 * SiLU, MLP biases, and architectures not known to share Llama's layer.
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";

export interface DecoderConfig {
  file: string;
  modelType: string;
  hiddenSize: number;
  numHeads: number;
  numKvHeads: number;
  headDim: number;
  numLayers: number;
  intermediateSize: number;
  /** null when the config leaves it out; the graph's own epsilon is used either way. */
  rmsNormEps: number | null;
  ropeTheta: number;
  /** Rows of the cos/sin caches: the longest position the model is served at. */
  maxPositions: number;
}

export type ConfigResult = { ok: true; config: DecoderConfig } | { ok: false; reason: string };

/**
 * Decoders whose layer is Llama's: pre-norm RMSNorm, rotary q/k with
 * rotate-half, grouped KV heads, SiLU-gated MLP. Qwen2 adds q/k/v biases,
 * which the fusion packs with the weights.
 */
const KNOWN_TYPES = new Set(["llama", "mistral", "qwen2"]);

/** config.json beside the ONNX file or one folder up (the Optimum layout keeps the model in onnx/). */
export function findConfigFile(onnxPath: string): string | null {
  for (const dir of [dirname(onnxPath), dirname(dirname(onnxPath))]) {
    const file = join(dir, "config.json");
    if (existsSync(file)) return file;
  }
  return null;
}

export function readDecoderConfig(onnxPath: string): ConfigResult {
  const file = findConfigFile(onnxPath);
  if (!file) return { ok: false, reason: "no config.json beside the model (RoPE base and head counts are not known)" };
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(readFileSync(file, "utf8")) as Record<string, unknown>;
  } catch (error) {
    return { ok: false, reason: `config.json does not parse (${(error as Error).message})` };
  }
  return parseDecoderConfig(raw, file);
}

export function parseDecoderConfig(raw: Record<string, unknown>, file: string): ConfigResult {
  const refuse = (reason: string): ConfigResult => ({ ok: false, reason });
  const num = (key: string): number | null => (typeof raw[key] === "number" && Number.isFinite(raw[key]) ? (raw[key] as number) : null);

  const modelType = typeof raw.model_type === "string" ? raw.model_type : "";
  if (!KNOWN_TYPES.has(modelType)) return refuse(`model_type "${modelType}" is not one whose layers this fusion knows (${[...KNOWN_TYPES].join(", ")})`);
  const act = raw.hidden_act ?? "silu";
  if (act !== "silu" && act !== "swish") return refuse(`hidden_act "${String(act)}" is not SiLU`);
  if (raw.mlp_bias === true) return refuse("mlp_bias: MLP biases are not fused");
  const scaling = raw.rope_scaling as Record<string, unknown> | null | undefined;
  const scalingType = scaling ? (scaling.rope_type ?? scaling.type) : undefined;
  if (scaling && scalingType !== "default") return refuse(`rope_scaling ${JSON.stringify(scaling)}: scaled RoPE caches are not built`);
  const partial = num("partial_rotary_factor");
  if (partial !== null && partial !== 1) return refuse(`partial_rotary_factor ${partial}: partial rotary is not fused`);

  const hiddenSize = num("hidden_size");
  const numHeads = num("num_attention_heads");
  const numLayers = num("num_hidden_layers");
  const intermediateSize = num("intermediate_size");
  const maxPositions = num("max_position_embeddings");
  if (!hiddenSize || !numHeads || !numLayers || !intermediateSize || !maxPositions) {
    return refuse("config.json lacks one of hidden_size, num_attention_heads, num_hidden_layers, intermediate_size, max_position_embeddings");
  }
  const numKvHeads = num("num_key_value_heads") ?? numHeads;
  const headDim = num("head_dim") ?? hiddenSize / numHeads;
  if (!Number.isInteger(headDim) || headDim % 2 !== 0) return refuse(`head size ${headDim} is not an even integer`);
  if (numHeads % numKvHeads !== 0) return refuse(`${numHeads} heads do not share ${numKvHeads} KV heads evenly`);

  // Mistral and Qwen2 may restrict attention to a window; the probe prompts
  // are far shorter than any window, so a windowed model could pass them and
  // still differ on long contexts: refuse rather than trust the probe.
  const window = num("sliding_window");
  if (raw.use_sliding_window === true || (window !== null && window < maxPositions && raw.use_sliding_window !== false)) {
    return refuse(`sliding_window ${window}: windowed attention is not fused`);
  }

  return {
    ok: true,
    config: {
      file,
      modelType,
      hiddenSize,
      numHeads,
      numKvHeads,
      headDim,
      numLayers,
      intermediateSize,
      rmsNormEps: num("rms_norm_eps"),
      ropeTheta: num("rope_theta") ?? 10000,
      maxPositions,
    },
  };
}
