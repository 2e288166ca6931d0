/**
 * Which files of a repo a pull fetches: what the server reads from a model
 * folder (model/model-folder.ts) and nothing else: the config and
 * tokenizer files, and exactly one ONNX file, chosen by --dtype as the
 * server chooses it, with its external data. Repos on the Hub often hold
 * a dozen ONNX files of 0.1-10 GB each; fetching them all would be the
 * wrong default. Pure: the listing comes in, the plan goes out.
 */
import { chooseDtypeFile, isDtypeMissing, type FileDtype, type ModelDtype } from "../model/dtype-files.ts";
import { HubError } from "./hub-error.ts";
import type { RepoFile } from "./repo-listing.ts";

/** The root files the server reads when they are there (chat_template.json too: transformers' newer exports keep the template there). */
export const SERVING_FILES = [
  "config.json",
  "generation_config.json",
  "tokenizer.json",
  "tokenizer_config.json",
  "special_tokens_map.json",
  "chat_template.jinja",
  "chat_template.json",
  "genai_config.json",
] as const;

export type RepoLayout = "optimum" | "genai";

export interface PullRequestSpec {
  dtype: ModelDtype;
  device: "cpu" | "cuda";
}

export interface PullPlan {
  layout: RepoLayout;
  dtype: FileDtype;
  /** The chosen ONNX file's path in the repo. */
  onnxFile: string;
  /** Everything to have on disk: serving files, the ONNX file, its external data. */
  files: RepoFile[];
}

/** As the server decides: genai_config.json without config.json is the onnxruntime-genai layout. */
export function repoLayout(files: readonly RepoFile[], label: string): RepoLayout {
  const has = (path: string): boolean => files.some((f) => f.path === path);
  if (has("config.json")) return "optimum";
  if (has("genai_config.json")) return "genai";
  throw new HubError(`${label} has neither config.json nor genai_config.json at its root: not a model folder this server can serve${onnxFilesNote(files)}`);
}

/**
 * The plan for `request`. `genaiDecoderFile` is genai_config.json's
 * model.decoder.filename (the caller fetches that file first); null in
 * the Optimum layout.
 */
export function planPull(files: readonly RepoFile[], request: PullRequestSpec, genaiDecoderFile: string | null, label: string): PullPlan {
  const byPath = new Map(files.map((f) => [f.path, f]));
  const layout = repoLayout(files, label);
  if (!byPath.has("tokenizer.json")) throw new HubError(`${label} has no tokenizer.json (the server needs a Hugging Face tokenizer.json)`);
  const chosen = layout === "genai" ? genaiChoice(byPath, request, genaiDecoderFile, label) : optimumChoice(byPath, request, label);
  const onnx = byPath.get(chosen.onnxFile);
  if (!onnx) throw new HubError(`${label}: ${chosen.onnxFile} is not in the listing`);
  const serving = SERVING_FILES.flatMap((name) => byPath.get(name) ?? []);
  return { layout, dtype: chosen.dtype, onnxFile: chosen.onnxFile, files: [...serving, onnx, ...externalDataOf(chosen.onnxFile, files)] };
}

interface Choice {
  dtype: FileDtype;
  onnxFile: string;
}

function optimumChoice(byPath: Map<string, RepoFile>, request: PullRequestSpec, label: string): Choice {
  const choice = chooseDtypeFile((name) => byPath.has(`onnx/${name}`), request.dtype, request.device);
  if (isDtypeMissing(choice)) throw missingDtype(label, request.dtype, choice.expected.map((n) => `onnx/${n}`), choice.available, [...byPath.values()]);
  return { dtype: choice.dtype, onnxFile: `onnx/${choice.file}` };
}

/** fp32 and auto take the file genai_config.json names; the other dtypes the optimizer's names beside it, as the server does. */
function genaiChoice(byPath: Map<string, RepoFile>, request: PullRequestSpec, decoderFile: string | null, label: string): Choice {
  if (request.dtype === "fp32" || request.dtype === "auto") {
    const file = decoderFile ?? "model.onnx";
    if (file.includes("/") || file.includes("\\") || file === "." || file === "..") {
      throw new HubError(`${label}: genai_config.json model.decoder.filename must be a file name, got "${file}"`);
    }
    if (!byPath.has(file)) throw new HubError(`${label}: genai_config.json names ${file} (model.decoder.filename), which the repo does not have${onnxFilesNote([...byPath.values()])}`);
    return { dtype: "fp32", onnxFile: file };
  }
  const choice = chooseDtypeFile((name) => byPath.has(name), request.dtype, request.device);
  if (isDtypeMissing(choice)) throw missingDtype(label, request.dtype, choice.expected, choice.available, [...byPath.values()]);
  return { dtype: choice.dtype, onnxFile: choice.file };
}

/**
 * An ONNX file's external data beside it: ONNX Runtime opens what the
 * graph names, and exporters name it after the model file
 * (model.onnx_data, model.onnx_data_1, model.onnx.data).
 */
export function externalDataOf(onnxFile: string, files: readonly RepoFile[]): RepoFile[] {
  const prefixes = [`${onnxFile}_data`, `${onnxFile}.data`];
  const folder = folderOf(onnxFile);
  return files.filter((f) => folderOf(f.path) === folder && prefixes.some((p) => f.path.startsWith(p))).sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

const folderOf = (path: string): string => path.slice(0, Math.max(0, path.lastIndexOf("/")));

function missingDtype(label: string, dtype: ModelDtype, expected: string[], available: FileDtype[], files: RepoFile[]): HubError {
  const what = dtype === "auto" ? "no ONNX model file of a known dtype" : `no ${dtype} model (expected ${expected.join(" or ")})`;
  const hint = available.length > 0 ? `; it has --dtype ${available.join(", ")}` : "";
  return new HubError(`${label} has ${what}${onnxFilesNote(files)}${hint}`);
}

function onnxFilesNote(files: readonly RepoFile[]): string {
  const onnx = files.filter((f) => f.path.endsWith(".onnx")).map((f) => f.path).sort();
  return onnx.length > 0 ? `; its ONNX files: ${onnx.join(", ")}` : "; it has no .onnx file";
}
