/**
 * Reads a model folder in either layout of docs/API.md (Optimum/transformers.js
 * or onnxruntime-genai) into one plain, structured-clonable description that
 * the main thread and every worker share. Tensor names and dtypes are NOT decided
 * here: they come from the ONNX session's own metadata (worker/io-spec.ts).
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import { chooseDtypeFile, isDtypeMissing, type FileDtype, type ModelDtype } from "./dtype-files.ts";
import { ModelLoadError } from "./model-load-error.ts";
import { asNumber, asObject, readJsonObject, type JsonObject } from "./json-file.ts";
import { resolveSpecialIds, type SpecialIds } from "./special-ids.ts";

export type ModelLayout = "optimum" | "genai";

export interface ModelFolder {
  dir: string;
  /** Folder basename: the default served model id. */
  name: string;
  layout: ModelLayout;
  /** Which of the folder's files is served (--dtype, auto resolved). */
  dtype: FileDtype;
  /** Every dtype the folder has a file for (the load line lists them). */
  availableDtypes: FileDtype[];
  onnxPath: string;
  tokenizerPath: string;
  tokenizerConfig: JsonObject;
  chatTemplate: string | null;
  /** A tokenizer_config list's `tool_use` template, rendered instead of the default when a request has tools. */
  toolUseTemplate: string | null;
  /** The file the templates came from, for start-up errors. */
  chatTemplateFile: string;
  contextLength: number;
  /** From config files; the ONNX logits width wins when it is known. */
  configVocabSize: number | null;
  /** From config files, used when the session metadata leaves KV dims symbolic. */
  numKeyValueHeads: number | null;
  headDim: number | null;
  special: SpecialIds;
}

/** `dtype` picks the ONNX file when a folder holds several (dtype-files.ts); `auto` prefers what runs fastest on `device`. */
export function loadModelFolder(path: string, dtype: ModelDtype = "auto", device: "cpu" | "cuda" = "cpu"): ModelFolder {
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
  const onnx = layout === "genai" ? genaiOnnxPath(dir, genaiDecoder, dtype, device) : optimumOnnxPath(dir, dtype, device);

  const textConfig = asObject(config?.text_config) ?? config;
  const configFile = join(dir, layout === "genai" ? "genai_config.json" : "config.json");
  const dims = readDimensions(configFile, textConfig, genaiModel, tokenizerConfig);

  return {
    dir,
    name: basename(dir),
    layout,
    dtype: onnx.dtype,
    onnxPath: onnx.path,
    availableDtypes: onnx.available,
    tokenizerPath,
    tokenizerConfig,
    ...loadChatTemplates(dir, tokenizerConfig),
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

/** The optimizer's command for the dtypes it can write (fp32 is the export itself). */
const OPTIMIZE_FLAGS: Partial<Record<FileDtype, string>> = {
  "fp32-fused": "--dtype fp32 --fuse",
  q8: "--dtype q8",
  q4: "--dtype q4",
};

interface OnnxChoice {
  path: string;
  dtype: FileDtype;
  available: FileDtype[];
}

/**
 * The file --dtype names in `dir`; a missing one is a one-line start-up
 * error that lists the ONNX files the folder does have, never a silent
 * pick of another file.
 */
function dtypeFile(dir: string, dtype: ModelDtype, device: "cpu" | "cuda", where: string): OnnxChoice {
  const choice = chooseDtypeFile((name) => existsSync(join(dir, name)), dtype, device);
  if (!isDtypeMissing(choice)) return { path: join(dir, choice.file), dtype: choice.dtype, available: choice.available };
  const files = readdirSync(dir).filter((f) => f.endsWith(".onnx")).sort();
  const there = files.length > 0 ? `; the folder has ${files.join(", ")}` : "; the folder has no .onnx file";
  const start = choice.available.length > 0 ? ` (start with --dtype ${choice.available[0]})` : "";
  const flags = dtype === "auto" ? undefined : OPTIMIZE_FLAGS[dtype];
  const make = flags ? `; npm run optimize -- --model <folder> ${flags} writes it` : "";
  const expected = dtype === "auto" ? "no ONNX model file of a known dtype" : `no ${dtype} model: expected ${choice.expected.join(" or ")}`;
  throw new ModelLoadError(where, `${expected}${there}${start}${make}`);
}

function optimumOnnxPath(dir: string, dtype: ModelDtype, device: "cpu" | "cuda"): OnnxChoice {
  const onnxDir = join(dir, "onnx");
  if (!existsSync(onnxDir)) throw new ModelLoadError(onnxDir, "missing (the Optimum layout keeps the model in onnx/model*.onnx)");
  return dtypeFile(onnxDir, dtype, device, onnxDir);
}

/** fp32 (and auto) is the file genai_config.json names; the others are the optimizer's files beside it. */
function genaiOnnxPath(dir: string, decoder: JsonObject | null, dtype: ModelDtype, device: "cpu" | "cuda"): OnnxChoice {
  const others = (): FileDtype[] => {
    const choice = chooseDtypeFile((name) => existsSync(join(dir, name)), "auto", device);
    return choice.available.filter((d) => d !== "fp32");
  };
  if (dtype !== "fp32" && dtype !== "auto") return dtypeFile(dir, dtype, device, dir);
  const filename = typeof decoder?.filename === "string" ? decoder.filename : "model.onnx";
  if (basename(filename) !== filename) {
    throw new ModelLoadError(join(dir, "genai_config.json"), `model.decoder.filename must be a file name, got "${filename}"`);
  }
  const path = join(dir, filename);
  if (!existsSync(path)) throw new ModelLoadError(path, "missing (named by genai_config.json model.decoder.filename)");
  return { path, dtype: "fp32", available: ["fp32", ...others()] };
}

function loadChatTemplates(dir: string, tokenizerConfig: JsonObject): Pick<ModelFolder, "chatTemplate" | "toolUseTemplate" | "chatTemplateFile"> {
  // transformers gives a standalone chat_template.jinja precedence, then chat_template.json, then the config entry.
  const file = join(dir, "chat_template.jinja");
  if (existsSync(file)) return { chatTemplate: readFileSync(file, "utf8"), toolUseTemplate: null, chatTemplateFile: file };
  const jsonFile = join(dir, "chat_template.json");
  const json = readJsonObject(jsonFile);
  if (json && json.chat_template !== undefined) return templatesOf(json.chat_template, jsonFile);
  return templatesOf(tokenizerConfig.chat_template, join(dir, "tokenizer_config.json"));
}

/** A template entry: one string, or a list of named templates as transformers saves several. */
function templatesOf(entry: unknown, file: string): Pick<ModelFolder, "chatTemplate" | "toolUseTemplate" | "chatTemplateFile"> {
  if (typeof entry === "string") return { chatTemplate: entry, toolUseTemplate: null, chatTemplateFile: file };
  if (Array.isArray(entry)) {
    const named = (name: string): string | null => {
      const found = entry.map(asObject).find((t) => t?.name === name);
      return typeof found?.template === "string" ? found.template : null;
    };
    return { chatTemplate: named("default"), toolUseTemplate: named("tool_use"), chatTemplateFile: file };
  }
  return { chatTemplate: null, toolUseTemplate: null, chatTemplateFile: file };
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

