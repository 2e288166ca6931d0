/**
 * Reads a model folder in either layout of docs/API.md (Optimum/transformers.js
 * or onnxruntime-genai) into one plain, structured-clonable description that
 * the main thread and every worker share. Tensor names and dtypes are NOT decided
 * here: they come from the ONNX session's own metadata (worker/io-spec.ts).
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import type { ModelDtype } from "../config.ts";
import { ModelLoadError } from "./model-load-error.ts";
import { asNumber, asObject, readJsonObject, type JsonObject } from "./json-file.ts";
import { resolveSpecialIds, type SpecialIds } from "./special-ids.ts";

export type ModelLayout = "optimum" | "genai";

export interface ModelFolder {
  dir: string;
  /** Folder basename: the default served model id. */
  name: string;
  layout: ModelLayout;
  /** Which of the folder's files is served (--dtype). */
  dtype: ModelDtype;
  onnxPath: string;
  tokenizerPath: string;
  tokenizerConfig: JsonObject;
  chatTemplate: string | null;
  contextLength: number;
  /** From config files; the ONNX logits width wins when it is known. */
  configVocabSize: number | null;
  /** From config files, used when the session metadata leaves KV dims symbolic. */
  numKeyValueHeads: number | null;
  headDim: number | null;
  special: SpecialIds;
}

/** `dtype` picks the ONNX file when a folder holds several (see DTYPE_FILES). */
export function loadModelFolder(path: string, dtype: ModelDtype = "fp32"): ModelFolder {
  const dir = resolve(path);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new ModelLoadError(dir, "model folder not found");
  }
  const genai = readJsonObject(join(dir, "genai_config.json"));
  const config = readJsonObject(join(dir, "config.json"));
  const generationConfig = readJsonObject(join(dir, "generation_config.json"));
  const tokenizerPath = join(dir, "tokenizer.json");
  if (!existsSync(tokenizerPath)) throw new ModelLoadError(tokenizerPath, "missing (a Hugging Face tokenizer.json is required)");
  const tokenizerConfig = readJsonObject(join(dir, "tokenizer_config.json")) ?? {};

  const layout: ModelLayout = genai && !config ? "genai" : "optimum";
  if (!genai && !config) {
    throw new ModelLoadError(join(dir, "config.json"), "missing (neither config.json nor genai_config.json found)");
  }
  const genaiModel = asObject(genai?.model);
  const genaiDecoder = asObject(genaiModel?.decoder);
  const onnxPath = layout === "genai" ? genaiOnnxPath(dir, genaiDecoder, dtype) : optimumOnnxPath(dir, dtype);

  const textConfig = asObject(config?.text_config) ?? config;
  const configFile = join(dir, layout === "genai" ? "genai_config.json" : "config.json");
  const dims = readDimensions(configFile, textConfig, genaiModel, tokenizerConfig);

  return {
    dir,
    name: basename(dir),
    layout,
    dtype,
    onnxPath,
    tokenizerPath,
    tokenizerConfig,
    chatTemplate: loadChatTemplate(dir, tokenizerConfig),
    ...dims,
    special: resolveSpecialIds({
      generationConfig,
      config: textConfig,
      genaiModel,
      tokenizerConfig,
      tokenizerJson: readTokenizerAddedTokens(tokenizerPath),
    }),
  };
}

type Dimensions = Pick<ModelFolder, "contextLength" | "configVocabSize" | "numKeyValueHeads" | "headDim">;

/** The sizes the config files give, under the names the exporters use (HF, GPT-2's n_*, genai). */
function readDimensions(configFile: string, textConfig: JsonObject | null, genaiModel: JsonObject | null, tokenizerConfig: JsonObject): Dimensions {
  const genaiDecoder = asObject(genaiModel?.decoder);
  const contextLength = firstNumber(
    textConfig?.max_position_embeddings,
    textConfig?.n_positions,
    textConfig?.max_sequence_length,
    genaiModel?.context_length,
    saneModelMaxLength(tokenizerConfig.model_max_length),
  );
  if (contextLength === null) throw new ModelLoadError(configFile, "no context length (max_position_embeddings / context_length) found");
  const numHeads = firstNumber(textConfig?.num_attention_heads, textConfig?.n_head);
  const hidden = firstNumber(textConfig?.hidden_size, textConfig?.n_embd);
  return {
    contextLength,
    configVocabSize: firstNumber(textConfig?.vocab_size, genaiModel?.vocab_size),
    numKeyValueHeads: firstNumber(textConfig?.num_key_value_heads, genaiDecoder?.num_key_value_heads, numHeads),
    headDim: firstNumber(textConfig?.head_dim, genaiDecoder?.head_size, numHeads && hidden ? hidden / numHeads : null),
  };
}

/**
 * The file of each dtype, by the names transformers.js and Optimum give them
 * (the plain export, or a merged decoder). A folder may hold several side by
 * side; --dtype chooses, and a missing one is a start-up error that lists
 * the dtypes the folder has, never a silent pick of another file.
 */
const DTYPE_FILES: Record<ModelDtype, readonly string[]> = {
  fp32: ["model.onnx", "decoder_model_merged.onnx"],
  // The optimizer's fused, unquantized graph (`optimize --dtype fp32 --fuse`); transformers.js has no name for it.
  "fp32-fused": ["model_fused.onnx", "decoder_model_merged_fused.onnx"],
  q8: ["model_quantized.onnx", "decoder_model_merged_quantized.onnx"],
  q4: ["model_q4.onnx", "decoder_model_merged_q4.onnx"],
};

const OPTIMIZE_FLAGS: Record<Exclude<ModelDtype, "fp32">, string> = {
  "fp32-fused": "--dtype fp32 --fuse",
  q8: "--dtype q8",
  q4: "--dtype q4",
};

function dtypeFile(dir: string, dtype: ModelDtype, where: string): string {
  const present = (d: ModelDtype): string | undefined => DTYPE_FILES[d].find((f) => existsSync(join(dir, f)));
  const file = present(dtype);
  if (file) return join(dir, file);
  const available = (Object.keys(DTYPE_FILES) as ModelDtype[]).filter((d) => present(d) !== undefined);
  const hint = available.length > 0 ? `; this folder has ${available.join(", ")} (start with --dtype ${available[0]})` : "";
  const make = dtype === "fp32" ? "" : ` (npm run optimize -- --model <folder> ${OPTIMIZE_FLAGS[dtype]} writes it)`;
  throw new ModelLoadError(where, `no ${dtype} model: expected ${DTYPE_FILES[dtype].join(" or ")}${make}${hint}`);
}

function optimumOnnxPath(dir: string, dtype: ModelDtype): string {
  const onnxDir = join(dir, "onnx");
  if (!existsSync(onnxDir)) throw new ModelLoadError(onnxDir, "missing (the Optimum layout keeps the model in onnx/model*.onnx)");
  return dtypeFile(onnxDir, dtype, onnxDir);
}

/** fp32 is the file genai_config.json names; the others are the optimizer's files beside it. */
function genaiOnnxPath(dir: string, decoder: JsonObject | null, dtype: ModelDtype): string {
  if (dtype !== "fp32") return dtypeFile(dir, dtype, dir);
  const filename = typeof decoder?.filename === "string" ? decoder.filename : "model.onnx";
  if (basename(filename) !== filename) {
    throw new ModelLoadError(join(dir, "genai_config.json"), `model.decoder.filename must be a file name, got "${filename}"`);
  }
  const path = join(dir, filename);
  if (!existsSync(path)) throw new ModelLoadError(path, "missing (named by genai_config.json model.decoder.filename)");
  return path;
}

function loadChatTemplate(dir: string, tokenizerConfig: JsonObject): string | null {
  // transformers gives a standalone chat_template.jinja precedence over the config entry.
  const file = join(dir, "chat_template.jinja");
  if (existsSync(file)) return readFileSync(file, "utf8");
  const entry = tokenizerConfig.chat_template;
  if (typeof entry === "string") return entry;
  if (Array.isArray(entry)) {
    const named = entry.map(asObject).find((t) => t?.name === "default");
    return typeof named?.template === "string" ? named.template : null;
  }
  return null;
}

function readTokenizerAddedTokens(path: string): Array<{ id: number; content: string; special: boolean }> {
  const json = readJsonObject(path);
  const added = Array.isArray(json?.added_tokens) ? json.added_tokens : [];
  return added.flatMap((t) => {
    const obj = asObject(t);
    const id = asNumber(obj?.id);
    return obj && id !== null && typeof obj.content === "string"
      ? [{ id, content: obj.content, special: obj.special === true }]
      : [];
  });
}

function firstNumber(...values: unknown[]): number | null {
  for (const v of values) {
    const n = asNumber(v);
    if (n !== null && n > 0) return n;
  }
  return null;
}

/** tokenizer_config's model_max_length is often a sentinel like 1e30. */
function saneModelMaxLength(value: unknown): number | null {
  const n = asNumber(value);
  return n !== null && n > 0 && n <= 1 << 24 ? n : null;
}

