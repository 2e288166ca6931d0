/**
 * Everything measured on one model, in order, one thing at a time so the
 * measurements do not share the CPUs: raw loops, the batching server's
 * scenarios, a second server with --max-batch-size 1 under the same c=16
 * load, the paired rounds behind the ratio lines (both servers idle but
 * loaded while the raw loop runs), the raw loops again, and the dtype table
 * when the folder holds optimized files (dtype-table.ts).
 */
import { availableDtypes, dtypeTable, type DtypeTable } from "./dtype-table.ts";
import type { BenchModel } from "./models.ts";
import { runRawBaselines } from "./raw-bench.ts";
import type { RawLoopResult } from "./raw-loop.ts";
import { ServerProcess } from "./server-process.ts";
import { closedLoop } from "./load-runners.ts";
import { pairedRounds, type PairedRatios } from "./paired-rounds.ts";
import {
  baseSpec,
  measured,
  runBatchingScenarios,
  warmUp,
  type BatchingResults,
  type Log,
  type ScenarioRow,
} from "./server-scenarios.ts";
import { scaleToModel, type Workload } from "./workload.ts";

export interface ModelResult {
  model: BenchModel;
  /** Per batch size, the mean of the two passes. */
  raw: RawLoopResult[];
  /** The raw loop before and after the batching scenarios. */
  rawPasses: [RawLoopResult[], RawLoopResult[]];
  batching: BatchingResults;
  oneAtATime: ScenarioRow;
  /** The ratio lines: medians of rounds that measure both sides of each ratio back to back. */
  paired: PairedRatios;
  bootMs: number;
  /** The workload as scaled to this model's speed. */
  workload: Workload;
  /** Each optimized file of the folder through the server against the raw fp32 loop; null when the folder has only fp32. */
  dtypes: DtypeTable | null;
}

export async function benchModel(
  model: BenchModel,
  base: Workload,
  threads: number,
  serverThreads: number | "auto",
  log: Log,
): Promise<ModelResult> {
  log(`  raw loop (batch ${base.rawBatchSizes.join(", ")})...`);
  const rawBefore = await runRawBaselines(model, base, threads);
  const rate = (batch: number): number => rawBefore.find((r) => r.batch === batch)!.endToEndTokensPerSec;
  const workload = scaleToModel(base, rate(1), rate(16));

  const t0 = performance.now();
  const batchingServer = await ServerProcess.start({ modelDir: model.dir, threads: serverThreads, maxBatchSize: 16 });
  const bootMs = performance.now() - t0;
  let serial: ServerProcess | null = null;
  let batching: BatchingResults;
  let oneAtATime: ScenarioRow;
  let paired: PairedRatios;
  try {
    await warmUp(batchingServer, model, workload);
    batching = await runBatchingScenarios(batchingServer, model, workload, log);
    serial = await ServerProcess.start({ modelDir: model.dir, threads: serverThreads, maxBatchSize: 1 });
    await warmUp(serial, model, workload);
    const spec = baseSpec(serial, model, workload.maxTokens);
    oneAtATime = await measured(serial, "c=16, max-batch-size 1", workload.maxTokens, log, () =>
      closedLoop(workload.oneAtATimeRequests, 16, workload.scenarioTimeoutMs, () => spec),
    );
    paired = await pairedRounds(model, workload, threads, batchingServer, serial, log);
  } finally {
    await batchingServer.stop();
    await serial?.stop();
  }
  // The raw lines of the report use the mean of a pass before and a pass after the servers.
  log(`  raw loop again...`);
  const rawAfter = await runRawBaselines(model, base, threads);
  const raw = rawBefore.map((before, i) => meanOfPasses(before, rawAfter[i]));
  const dtypes = availableDtypes(model.dir).present.length > 1 ? await dtypeTable(model, workload, threads, serverThreads, log) : null;
  return { model, raw, rawPasses: [rawBefore, rawAfter], batching, oneAtATime, paired, bootMs, workload, dtypes };
}

/** The two passes' mean times, and the rates of those times (tokens over mean time). */
function meanOfPasses(a: RawLoopResult, b: RawLoopResult): RawLoopResult {
  const tokens = a.batch * a.tokensPerRow;
  const meanTime = (r: RawLoopResult): number => (tokens * 1000) / r.endToEndTokensPerSec;
  const prefillMs = (a.prefillMs + b.prefillMs) / 2;
  const decodeMs = (a.decodeMs + b.decodeMs) / 2;
  return {
    ...a,
    prefillMs,
    decodeMs,
    decodeTokensPerSec: (a.batch * (a.tokensPerRow - 1) * 1000) / decodeMs,
    endToEndTokensPerSec: (tokens * 1000) / ((meanTime(a) + meanTime(b)) / 2),
    runs: a.runs + b.runs,
  };
}

