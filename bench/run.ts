/**
 * `npm run bench`: raw onnxruntime-node greedy loops and the server over
 * real HTTP (SSE load at several concurrencies, Poisson arrivals,
 * one-at-a-time, cancellation) on each model, then constrained decoding's
 * mask cost and streams (mask-cost.ts, structured-stream.ts); see bench/README.md.
 */
import { loadavg } from "node:os";
import { parseBenchArgs, USAGE } from "./args.ts";
import { benchModel } from "./model-bench.ts";
import { loadBenchModel, resolveModelDirs } from "./models.ts";
import { maskCostSection } from "./mask-cost.ts";
import { formatModelReport } from "./report.ts";
import { structuredStreamSection } from "./structured-stream.ts";
import { workloadFor } from "./workload.ts";

async function main(): Promise<void> {
  const args = parseBenchArgs(process.argv.slice(2));
  if (args.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const workload = workloadFor(args.quick);
  const say = (line: string): void => void process.stdout.write(`${line}\n`);
  const progress = (line: string): void => void process.stderr.write(`${line}\n`);
  say(
    `bench ${new Date().toISOString()}  node ${process.version}  raw loop threads ${args.threads}  server --threads ${args.serverThreads}  ` +
      `load average ${loadavg().map((l) => l.toFixed(2)).join(" ")}${args.quick ? "  (--quick: a smoke run, not a measurement)" : ""}`,
  );
  const dirs = resolveModelDirs(args.models, say);
  for (const dir of dirs) {
    progress(`measuring ${dir}`);
    try {
      const model = loadBenchModel(dir, workload.promptLength);
      const result = await benchModel(model, workload, args.threads, args.serverThreads, progress);
      say("");
      say(formatModelReport(result, result.workload, args.threads, args.serverThreads));
    } catch (error) {
      say(`!! ${dir}: ${(error as Error).message}`);
      process.exitCode = 1;
    }
  }
  // Constrained decoding (issue 11): the mask's CPU cost on three vocabularies, then streams on the 135M shape.
  progress("measuring constrained decoding");
  try {
    say("");
    maskCostSection(args.quick, say, progress);
    say("");
    await structuredStreamSection(args.quick, args.serverThreads, say, progress);
  } catch (error) {
    say(`!! constrained decoding: ${(error as Error).message}`);
    process.exitCode = 1;
  }
}

main().catch((error: Error) => {
  process.stderr.write(`bench failed: ${error.stack ?? error.message}\n`);
  process.exit(1);
});
