/**
 * Optimizes a temporary copy of a model folder (tests never write into
 * models/ or the read-only fixtures), without the q8/q4 files the folder
 * may already ship, and opens runners on the float file
 * and on the optimized one, through the server's own ModelRunner.
 */
import { chmodSync, cpSync, mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { loadModelFolder, type ModelFolder } from "../../../src/model/model-folder.ts";
import { outputPathFor, quantizeOptionsFor, type FuseDtype, type OptimizeDtype } from "../../../src/optimize/dtypes.ts";
import { fuseModelFile, type FusedResult } from "../../../src/optimize/fuse/fuse-model.ts";
import { optimizeModelFile, type OptimizeResult } from "../../../src/optimize/optimize-model.ts";
import { ModelRunner } from "../../../src/worker/model-runner.ts";

/** Files the optimizer writes: the copy leaves them out, so each test makes its own. */
const OPTIMIZER_OUTPUT = /_(q4|quantized|fused)\.onnx(_data)?$/;

export function tempCopy(modelDir: string): string {
  const root = mkdtempSync(join(tmpdir(), "optimize-test-"));
  const dir = join(root, basename(modelDir));
  cpSync(modelDir, dir, { recursive: true, filter: (src) => !OPTIMIZER_OUTPUT.test(src) });
  makeWritable(dir); // the fixtures are read-only
  return dir;
}

function makeWritable(path: string): void {
  chmodSync(path, statSync(path).isDirectory() ? 0o755 : 0o644);
  if (statSync(path).isDirectory()) for (const f of readdirSync(path)) makeWritable(join(path, f));
}

export function removeTempCopy(dir: string): void {
  rmSync(join(dir, ".."), { recursive: true, force: true });
}

/** Optimizes the folder's fp32 file, then loads the folder as the server's --dtype would. */
export function optimizeFolder(dir: string, dtype: OptimizeDtype): { folder: ModelFolder; result: OptimizeResult } {
  const input = loadModelFolder(dir).onnxPath;
  const result = optimizeModelFile(input, outputPathFor(input, dtype), quantizeOptionsFor(dtype));
  const folder = loadModelFolder(dir, dtype);
  if (folder.onnxPath !== result.output.path) throw new Error(`--dtype ${dtype} serves ${folder.onnxPath}, not ${result.output.path}`);
  return { folder, result };
}

/**
 * optimize --fuse on the folder's fp32 file. q8/q4 load as the server's
 * --dtype would; fused fp32 (model_fused.onnx, which no --dtype names yet)
 * loads as the folder with its onnxPath pointed at that file.
 */
export async function fuseFolder(dir: string, dtype: FuseDtype): Promise<{ folder: ModelFolder; result: FusedResult }> {
  const input = loadModelFolder(dir).onnxPath;
  const result = await fuseModelFile(input, outputPathFor(input, dtype), dtype === "fp32" ? null : quantizeOptionsFor(dtype));
  const folder = dtype === "fp32" ? { ...loadModelFolder(dir), onnxPath: result.output.path } : loadModelFolder(dir, dtype);
  if (folder.onnxPath !== result.output.path) throw new Error(`--dtype ${dtype} serves ${folder.onnxPath}, not ${result.output.path}`);
  return { folder, result };
}

export function openRunner(folder: ModelFolder): Promise<ModelRunner> {
  return ModelRunner.create(folder, { device: "cpu", threads: 1 });
}
