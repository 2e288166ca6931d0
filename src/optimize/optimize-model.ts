/**
 * One optimization from file to file: read and check the input, rewrite
 * its MatMuls, choose inline or external data, write the output next to
 * the input. The original is never touched; an existing output is only
 * replaced when asked (--force).
 */
import { existsSync, rmSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { readModel, type LoadedModel } from "./model-reader.ts";
import { externalDataName, writeModel, type WrittenModel } from "./model-writer.ts";
import { encodedModelLength, type ModelProto } from "./onnx-proto.ts";
import { OptimizeError } from "./optimize-error.ts";
import { quantizeMatMuls, type QuantizeOptions, type RewriteReport } from "./quantize-matmuls.ts";
import { readFloatWeights } from "./tensor-data.ts";

/**
 * Above this many bytes the output keeps its weights in an external file:
 * protobuf's hard cap is 2 GB, and ORT and protobufjs both copy the message
 * while parsing, so a one-file model near the cap is fragile.
 */
export const EXTERNAL_ABOVE_BYTES = 1.5 * 1024 ** 3;

export interface OptimizeResult {
  input: { path: string; protoBytes: number; dataBytes: number };
  output: WrittenModel;
  report: RewriteReport;
  warnings: string[];
}

export function optimizeModelFile(inputPath: string, outputPath: string, options: QuantizeOptions, force = false): OptimizeResult {
  const { input, output } = checkedPaths(inputPath, outputPath, force);
  const loaded = readModel(input);
  const report = quantizeMatMuls(loaded.model, (tensor) => readFloatWeights(tensor, loaded.dir), options);
  if (report.quantized.length === 0) {
    throw new OptimizeError(input, `no MatMul has a constant weight to quantize (${report.left.length} left as they are); nothing written`);
  }
  return { ...writeOptimized(loaded, loaded.model, output), report };
}

/** Absolute input and output paths, refusing to overwrite the input, or an output unless forced. */
export function checkedPaths(inputPath: string, outputPath: string, force: boolean): { input: string; output: string } {
  const input = resolve(inputPath);
  const output = resolve(outputPath);
  if (output === input) throw new OptimizeError(output, "the output would overwrite the input model; refusing");
  for (const target of [output, join(dirname(output), externalDataName(output))]) {
    if (existsSync(target) && !force) throw new OptimizeError(target, "already exists; pass --force to replace it");
  }
  return { input, output };
}

/**
 * Writes `model` (the loaded model rewritten, or a graph rebuilt from its
 * tensors) beside the input: external data when the input had some or the
 * output is too large for one protobuf.
 */
export function writeOptimized(loaded: LoadedModel, model: ModelProto, output: string): Omit<OptimizeResult, "report"> {
  const warnings: string[] = [];
  if (loaded.reencodeDelta !== 0) {
    warnings.push(
      `${basename(loaded.path)} does not re-encode to its own size (${loaded.reencodeDelta > 0 ? "+" : ""}${loaded.reencodeDelta} bytes): ` +
        "it may hold fields newer than ONNX 1.12, which the output leaves out",
    );
  }
  const dataPath = join(dirname(output), externalDataName(output));
  const external = loaded.externalFiles.size > 0 || encodedModelLength(model) > EXTERNAL_ABOVE_BYTES;
  const written = writeModel(model, output, { external, sourceDir: loaded.dir });
  // A data file left by an earlier --force run that wrote external data would now be stale.
  if (!external && existsSync(dataPath)) rmSync(dataPath);
  const dataBytes = [...loaded.externalFiles.values()].reduce((a, b) => a + b, 0);
  return { input: { path: loaded.path, protoBytes: loaded.protoBytes, dataBytes }, output: written, warnings };
}
