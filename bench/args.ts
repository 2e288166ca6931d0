/** Command line of `npm run bench`. */
import { availableParallelism } from "node:os";
import { parseArgs } from "node:util";

export interface BenchArgs {
  /** Model folders given with --model; empty means the default pair. */
  models: string[];
  quick: boolean;
  /** Intra-op threads of the raw loop (--threads). */
  threads: number;
  /** The server's --threads (--server-threads): its own default, "auto", unless told. */
  serverThreads: number | "auto";
  help: boolean;
}

export const USAGE = [
  "Usage: npm run bench -- [--model PATH]... [--quick] [--threads N] [--server-threads auto|N]",
  "  --model PATH   model folder to measure (repeatable; default: models/tiny-chat and",
  "                 models/.cache/smollm2-135m-shape)",
  "  --quick        fewer and shorter requests (a smoke run, not a measurement)",
  "  --threads N    intra-op threads of the raw loop (default: all cores)",
  "  --server-threads auto|N",
  "                 the server's --threads (default: auto, the server's own default)",
].join("\n");

export function parseBenchArgs(argv: string[]): BenchArgs {
  const { values } = parseArgs({
    args: argv,
    options: {
      model: { type: "string", multiple: true },
      quick: { type: "boolean" },
      threads: { type: "string" },
      "server-threads": { type: "string" },
      help: { type: "boolean", short: "h" },
    },
    strict: true,
    allowPositionals: false,
  });
  const threads = values.threads === undefined ? availableParallelism() : Number(values.threads);
  if (!Number.isInteger(threads) || threads < 1) throw new Error(`--threads: expected a positive integer, got ${values.threads}`);
  const given = values["server-threads"] ?? "auto";
  const serverThreads = given === "auto" ? "auto" : Number(given);
  if (serverThreads !== "auto" && (!Number.isInteger(serverThreads) || serverThreads < 1)) {
    throw new Error(`--server-threads: expected auto or a positive integer, got ${given}`);
  }
  return { models: values.model ?? [], quick: values.quick === true, threads, serverThreads, help: values.help === true };
}
