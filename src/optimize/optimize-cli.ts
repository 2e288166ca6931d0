/**
 * `onnx-openai-server optimize --model DIR --dtype q4|q8 [--force]`
 * (also `npm run optimize -- …`): quantizes the model folder's ONNX file
 * once, writing the q4/q8 file beside it, and prints what it did. Errors are
 * one line on stderr with a non-zero exit code, never a stack trace.
 */
import { existsSync, statSync } from "node:fs";
import { basename, relative } from "node:path";
import { parseArgs } from "node:util";
import { loadModelFolder } from "../model/model-folder.ts";
import { ModelLoadError } from "../model/model-load-error.ts";
import { OPTIMIZE_DTYPES, outputPathFor, quantizeOptionsFor, type OptimizeDtype } from "./dtypes.ts";
import { optimizeModelFile, type OptimizeResult } from "./optimize-model.ts";
import { OptimizeError } from "./optimize-error.ts";
import type { QuantizeOptions } from "./quantize-matmuls.ts";

export const OPTIMIZE_USAGE = `usage: onnx-openai-server optimize --model DIR --dtype q4|q8 [--force]

Quantizes every MatMul with a constant weight to ONNX Runtime's MatMulNBits
(block 32, int8 compute) and writes the result beside the model's ONNX file:
  --dtype q4  ->  onnx/model_q4.onnx         (4-bit weights)
  --dtype q8  ->  onnx/model_quantized.onnx  (8-bit weights)
The original file is never changed. --model may also name an .onnx file.
  --force     replace an existing output file`;

export interface CliIo {
  out: (line: string) => void;
  err: (line: string) => void;
}

const stdio: CliIo = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
};

/** Runs the command; returns the exit code (0 done, 1 refused or failed, 2 bad arguments). */
export function runOptimizeCli(argv: string[], io: CliIo = stdio): number {
  let args: { model?: string; dtype?: string; force?: boolean; help?: boolean };
  try {
    args = parseArgs({
      args: argv,
      options: { model: { type: "string" }, dtype: { type: "string" }, force: { type: "boolean" }, help: { type: "boolean", short: "h" } },
      strict: true,
    }).values;
  } catch (error) {
    io.err(`error: ${(error as Error).message}\n${OPTIMIZE_USAGE}`);
    return 2;
  }
  if (args.help) {
    io.out(OPTIMIZE_USAGE);
    return 0;
  }
  if (!args.model || !args.dtype || !OPTIMIZE_DTYPES.includes(args.dtype as OptimizeDtype)) {
    io.err(`error: ${!args.model ? "--model is required" : `--dtype must be one of ${OPTIMIZE_DTYPES.join(", ")}`}\n${OPTIMIZE_USAGE}`);
    return 2;
  }
  const dtype = args.dtype as OptimizeDtype;
  try {
    const input = modelFile(args.model);
    const options = quantizeOptionsFor(dtype);
    const result = optimizeModelFile(input, outputPathFor(input, dtype), options, args.force === true);
    summary(result, dtype, options).forEach(io.out);
    return 0;
  } catch (error) {
    if (error instanceof OptimizeError || error instanceof ModelLoadError) {
      io.err(`error: ${error.message}`);
      return 1;
    }
    throw error;
  }
}

/** The ONNX file the server would serve from the folder (model-folder.ts decides), or the file given. */
function modelFile(path: string): string {
  if (existsSync(path) && statSync(path).isFile()) return path;
  return loadModelFolder(path).onnxPath;
}

export function summary(result: OptimizeResult, dtype: OptimizeDtype, options: QuantizeOptions): string[] {
  const { report, input, output } = result;
  const floatBytes = sum(report.quantized.filter((q) => !q.shared).map((q) => q.floatBytes));
  const quantBytes = sum(report.quantized.filter((q) => !q.shared).map((q) => q.quantizedBytes));
  const inputTotal = input.protoBytes + input.dataBytes;
  const outputTotal = output.protoBytes + output.dataBytes;
  const lines = [
    `optimized ${input.path}`,
    `  format: ${dtype}, ${options.bits}-bit MatMulNBits, block ${options.blockSize}, ${options.symmetric ? "symmetric" : "with zero points"}, accuracy_level ${options.accuracyLevel}`,
    `  MatMuls quantized: ${report.quantized.length} (weights ${mb(floatBytes)} -> ${mb(quantBytes)})`,
    `  MatMuls left as they were: ${report.left.length}`,
  ];
  const byReason = new Map<string, string[]>();
  for (const l of report.left) byReason.set(l.reason, [...(byReason.get(l.reason) ?? []), l.node]);
  for (const [reason, nodes] of byReason) {
    const shown = nodes.slice(0, 3).join(", ") + (nodes.length > 3 ? `, … (${nodes.length - 3} more)` : "");
    lines.push(`    ${nodes.length} x ${reason}: ${shown}`);
  }
  if (report.removedInitializers.length > 0) lines.push(`  float weights no longer read, removed: ${report.removedInitializers.length}`);
  const data = output.dataPath ? ` + ${basename(output.dataPath)} (external data)` : "";
  lines.push(`  size: ${mb(inputTotal)} -> ${mb(outputTotal)} (${(outputTotal / inputTotal).toFixed(2)}x)`);
  lines.push(`  output: ${shortPath(output.path)}${data}`);
  for (const w of result.warnings) lines.push(`  warning: ${w}`);
  return lines;
}

/** Relative to the working directory when under it, else absolute. */
function shortPath(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel && !rel.startsWith("..") ? rel : path;
}

function sum(values: number[]): number {
  return values.reduce((a, b) => a + b, 0);
}

function mb(bytes: number): string {
  return `${(bytes / 1e6).toFixed(bytes < 1e7 ? 2 : 1)} MB`;
}
