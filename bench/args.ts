/** Command line of `npm run bench`. */
import { availableParallelism } from "node:os";
import { parseArgs } from "node:util";

export interface BenchArgs {
  /** Model folders given with --model; empty means the default pair. */
  models: string[];
  quick: boolean;
  /** Intra-op threads for the raw loop and the server (--threads). */
  threads: number;
  help: boolean;
}

export const USAGE = [
  "Usage: npm run bench -- [--model PATH]... [--quick] [--threads N]",
  "  --model PATH   model folder to measure (repeatable; default: models/tiny-chat and",
  "                 models/.cache/smollm2-135m-shape)",
  "  --quick        fewer and shorter requests (a smoke run, not a measurement)",
  "  --threads N    intra-op threads for the raw loop and the server (default: all cores)",
].join("\n");

export function parseBenchArgs(argv: string[]): BenchArgs {
  const { values } = parseArgs({
    args: argv,
    options: {
      model: { type: "string", multiple: true },
      quick: { type: "boolean" },
      threads: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
    strict: true,
    allowPositionals: false,
  });
  const threads = values.threads === undefined ? availableParallelism() : Number(values.threads);
  if (!Number.isInteger(threads) || threads < 1) throw new Error(`--threads: expected a positive integer, got ${values.threads}`);
  return { models: values.model ?? [], quick: values.quick === true, threads, help: values.help === true };
}
