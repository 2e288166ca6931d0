/**
 * `onnx-openai-server optimize --model DIR --dtype q4|q8|fp32 [--fuse] [--force]`
 * (also `npm run optimize -- …`): quantizes the model folder's ONNX file
 * once, and with --fuse also rewrites its decoder layers into ONNX
 * Runtime's fused ops, writing the result beside it, and prints what it
 * did. Errors are one line on stderr with a non-zero exit code, never a
 * stack trace.
 */
import { existsSync, statSync } from "node:fs";
import { parseArgs } from "node:util";
import { loadModelFolder } from "../model/model-folder.ts";
import { ModelLoadError } from "../model/model-load-error.ts";
import { FUSE_DTYPES, OPTIMIZE_DTYPES, outputPathFor, quantizeOptionsFor, type FuseDtype, type OptimizeDtype } from "./dtypes.ts";
import { fuseModelFile } from "./fuse/fuse-model.ts";
import { optimizeModelFile } from "./optimize-model.ts";
import { OptimizeError } from "./optimize-error.ts";
import { summary } from "./optimize-summary.ts";

export { summary };

export const OPTIMIZE_USAGE = `usage: onnx-openai-server optimize --model DIR --dtype q4|q8|fp32 [--fuse] [--force]

Quantizes every MatMul with a constant weight to ONNX Runtime's MatMulNBits
(block 32, int8 compute) and writes the result beside the model's ONNX file:
  --dtype q4  ->  onnx/model_q4.onnx         (4-bit weights)
  --dtype q8  ->  onnx/model_quantized.onnx  (8-bit weights)
The original file is never changed. --model may also name an .onnx file.
  --fuse      first rebuild a Llama/Mistral/Qwen2 decoder with ONNX Runtime's
              fused ops (GroupQueryAttention with rotary, SimplifiedLayer-
              Normalization, packed q|k|v), written only once it matches the
              original on probe inputs; otherwise it says why and writes the
              quantize-only file. With --fuse, --dtype fp32 writes the fused,
              unquantized graph to onnx/model_fused.onnx (the server's
              --dtype fp32-fused).
  --force     replace an existing output file`;

export interface CliIo {
  out: (line: string) => void;
  err: (line: string) => void;
}

const stdio: CliIo = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
};

type Command = { kind: "exit"; code: number } | { kind: "run"; model: string; dtype: FuseDtype; fuse: boolean; force: boolean };

/**
 * Runs the command; returns the exit code (0 done, 1 refused or failed, 2
 * bad arguments). --fuse must await ONNX Runtime (the proof runs both
 * graphs), and main.ts assigns this function's result to process.exitCode
 * without awaiting it: the fused path therefore returns undefined and sets
 * process.exitCode itself when it ends. Callers that can await use
 * runOptimizeCommand.
 */
export function runOptimizeCli(argv: string[], io: CliIo = stdio): number | undefined {
  const command = parse(argv, io);
  if (command.kind === "exit") return command.code;
  if (!command.fuse) return runQuantize(command, io);
  void runFuse(command, io).then((code) => {
    process.exitCode = code;
  });
  return undefined;
}

/** The whole command, awaitable, --fuse or not. */
export async function runOptimizeCommand(argv: string[], io: CliIo = stdio): Promise<number> {
  const command = parse(argv, io);
  if (command.kind === "exit") return command.code;
  return command.fuse ? runFuse(command, io) : runQuantize(command, io);
}

function parse(argv: string[], io: CliIo): Command {
  let args: { model?: string; dtype?: string; force?: boolean; fuse?: boolean; help?: boolean };
  try {
    args = parseArgs({
      args: argv,
      options: {
        model: { type: "string" },
        dtype: { type: "string" },
        force: { type: "boolean" },
        fuse: { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
    }).values;
  } catch (error) {
    io.err(`error: ${(error as Error).message}\n${OPTIMIZE_USAGE}`);
    return { kind: "exit", code: 2 };
  }
  if (args.help) {
    io.out(OPTIMIZE_USAGE);
    return { kind: "exit", code: 0 };
  }
  const fuse = args.fuse === true;
  const allowed: readonly string[] = fuse ? FUSE_DTYPES : OPTIMIZE_DTYPES;
  if (!args.model || !args.dtype || !allowed.includes(args.dtype)) {
    const why = !args.model
      ? "--model is required"
      : args.dtype === "fp32"
        ? "--dtype fp32 needs --fuse (an fp32 model without fusion is the input itself)"
        : `--dtype must be one of ${allowed.join(", ")}`;
    io.err(`error: ${why}\n${OPTIMIZE_USAGE}`);
    return { kind: "exit", code: 2 };
  }
  return { kind: "run", model: args.model, dtype: args.dtype as FuseDtype, fuse, force: args.force === true };
}

function runQuantize(command: Extract<Command, { kind: "run" }>, io: CliIo): number {
  return reportErrors(io, () => {
    const dtype = command.dtype as OptimizeDtype;
    const input = modelFile(command.model);
    const options = quantizeOptionsFor(dtype);
    const result = optimizeModelFile(input, outputPathFor(input, dtype), options, command.force);
    summary(result, dtype, options).forEach(io.out);
    return 0;
  });
}

async function runFuse(command: Extract<Command, { kind: "run" }>, io: CliIo): Promise<number> {
  let input: string;
  try {
    input = modelFile(command.model);
  } catch (error) {
    return reportErrors(io, () => {
      throw error;
    });
  }
  const options = command.dtype === "fp32" ? null : quantizeOptionsFor(command.dtype);
  try {
    const result = await fuseModelFile(input, outputPathFor(input, command.dtype), options, command.force);
    summary(result, command.dtype, options, result.fusion).forEach(io.out);
    return 0;
  } catch (error) {
    return reportErrors(io, () => {
      throw error;
    });
  }
}

/** Refusals (bad input, nothing to write) are one line and exit code 1; anything else is a bug and propagates. */
function reportErrors(io: CliIo, run: () => number): number {
  try {
    return run();
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
