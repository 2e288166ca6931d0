/**
 * `onnx-openai-server pull <owner/name> [flags]` (also `npm run pull -- …`):
 * fetches what the server needs to serve a Hub model into --models-dir
 * (or --dir), where `--model owner/name` finds it. Bad arguments print the
 * usage and exit 2; a pull that fails says why in one line and exits 1.
 */
import { parseArgs } from "node:util";
import { ConfigError, resolveOption, type ServerConfig } from "../config.ts";
import { MODEL_DTYPES } from "../model/dtype-files.ts";
import { hubModelDir, isHubRepoId } from "../model/model-source.ts";
import { hubEndpoint, hubToken } from "./hub-env.ts";
import { HubError } from "./hub-error.ts";
import { pullModel } from "./pull-model.ts";
import type { PullOutput } from "./pull-progress.ts";
import type { RetryPolicy } from "./retry.ts";

export const PULL_USAGE = `usage: onnx-openai-server pull <owner/name> [--revision R] [--dtype D] [--device cpu|cuda]
                                [--dir DIR] [--models-dir DIR] [--refresh]

Downloads a Hugging Face Hub model repo's config and tokenizer files and the
one ONNX file --dtype names (with its external data), verified against the
Hub's hashes, resuming any interrupted download.
  --revision R      branch, tag or commit [env MODEL_REVISION; default main]
  --dtype D         which ONNX file, as the server's --dtype [env DTYPE;
                    default auto: model.onnx if the repo has it, else the
                    fastest for --device]; one of
                    ${MODEL_DTYPES.join(", ")}
  --device D        cpu or cuda, what auto chooses for [env DEVICE; default cpu]
  --models-dir DIR  where Hub models are kept [env MODELS_DIR;
                    default ~/.cache/onnx-openai-server/models]
  --dir DIR         the folder to fill instead of <models-dir>/owner/name
  --refresh         ask the Hub even when the folder is up to date (fetches
                    what changed on the revision since)
Env: HF_TOKEN (gated and private repos), HF_ENDPOINT (a mirror; default
https://huggingface.co).`;

export interface PullCliIo {
  /** Progress and the summary. */
  output: PullOutput;
  /** Error lines. */
  err: (line: string) => void;
  env: NodeJS.ProcessEnv;
  /** For tests; the default waits 0.5 s, doubling, 4 times. */
  retry?: RetryPolicy;
}

const stdio = (): PullCliIo => ({ output: process.stdout, err: (line) => process.stderr.write(`${line}\n`), env: process.env });

interface PullArgs {
  repo: string;
  flags: { revision?: string; dtype?: string; device?: string; dir?: string; "models-dir"?: string; refresh?: boolean };
}

/** Runs the command; resolves to the exit code (0 pulled or up to date, 1 the pull failed, 2 bad arguments). */
export async function runPullCli(argv: string[], io: PullCliIo = stdio()): Promise<number> {
  const args = parseCommandLine(argv, io);
  if (typeof args === "number") return args;
  const settings = serverSettings(args, io);
  if (typeof settings === "number") return settings;
  if (args.flags.dir !== undefined && args.flags.dir.trim() === "") return usageError(io, "--dir: expected a path");

  const dir = args.flags.dir ?? hubModelDir(settings.modelsDir, args.repo, settings.revision);
  try {
    const hub = { endpoint: hubEndpoint(io.env), token: hubToken(io.env) };
    await pullModel({ repo: args.repo, ...settings, ...hub, dir, output: io.output, refresh: args.flags.refresh === true, retry: io.retry });
  } catch (error) {
    if (error instanceof HubError || isFileSystemError(error)) {
      io.err(`error: ${(error as Error).message}`);
      return 1;
    }
    throw error;
  }
  io.output.write(`serve it with: --model ${serveHint(args)}\n`);
  return 0;
}

function parseCommandLine(argv: string[], io: PullCliIo): PullArgs | number {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: {
        revision: { type: "string" },
        dtype: { type: "string" },
        device: { type: "string" },
        dir: { type: "string" },
        "models-dir": { type: "string" },
        refresh: { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
      allowPositionals: true,
    });
  } catch (error) {
    // parseArgs messages run on with advice about "--"; the first sentence says it.
    return usageError(io, (error as Error).message.split("\n")[0].replace(/\. To specify a positional argument.*$/, ""));
  }
  if (parsed.values.help === true) {
    io.output.write(`${PULL_USAGE}\n`);
    return 0;
  }
  const { help: _help, ...flags } = parsed.values;
  if (parsed.positionals.length === 0) return usageError(io, "the repo id (owner/name) is required");
  if (parsed.positionals.length > 1) return usageError(io, `one repo id at a time, got ${parsed.positionals.join(" ")}`);
  const repo = parsed.positionals[0];
  if (!isHubRepoId(repo)) return usageError(io, `"${repo}" is not a Hub repo id (owner/name of letters, digits, '-', '_' and '.')`);
  return { repo, flags };
}

/** The options pull shares with the server, read as the server reads them (flag, env var, default). */
function serverSettings(args: PullArgs, io: PullCliIo): Pick<ServerConfig, "revision" | "dtype" | "device" | "modelsDir"> | number {
  try {
    return {
      revision: resolveOption("revision", args.flags.revision, io.env),
      dtype: resolveOption("dtype", args.flags.dtype, io.env),
      device: resolveOption("device", args.flags.device, io.env),
      modelsDir: resolveOption("modelsDir", args.flags["models-dir"], io.env),
    };
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return usageError(io, error.message);
  }
}

function usageError(io: PullCliIo, message: string): number {
  io.err(`error: ${message}\n${PULL_USAGE}`);
  return 2;
}

/** What --model (and the flags given here that the server shares) serve the pulled folder with. */
function serveHint(args: PullArgs): string {
  // A folder is served as a folder; the repo id needs the revision and models dir it was pulled with.
  const target = args.flags.dir !== undefined ? [args.flags.dir] : [args.repo, ...flagsGiven(args, ["revision", "models-dir"])];
  return [...target, ...flagsGiven(args, ["dtype", "device"])].join(" ");
}

function flagsGiven(args: PullArgs, names: ReadonlyArray<"revision" | "models-dir" | "dtype" | "device">): string[] {
  return names.flatMap((name) => (args.flags[name] === undefined ? [] : [`--${name} ${args.flags[name]}`]));
}

/** Disk full, no permission, a path that is a file: one line, like the Hub's refusals. */
function isFileSystemError(error: unknown): boolean {
  return error instanceof Error && typeof (error as NodeJS.ErrnoException).code === "string" && typeof (error as NodeJS.ErrnoException).syscall === "string";
}
