/**
 * Everything measured on one model, in order, one thing at a time so the
 * measurements do not share the CPUs: raw loops, the batching server, then
 * a second server with --max-batch-size 1 under the same c=16 load.
 */
import type { BenchModel } from "./models.ts";
import { runRawBaselines } from "./raw-bench.ts";
import type { RawLoopResult } from "./raw-loop.ts";
import { ServerProcess } from "./server-process.ts";
import { closedLoop } from "./load-runners.ts";
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
  raw: RawLoopResult[];
  batching: BatchingResults;
  oneAtATime: ScenarioRow;
  bootMs: number;
  /** The workload as scaled to this model's speed. */
  workload: Workload;
}

export async function benchModel(
  model: BenchModel,
  base: Workload,
  threads: number,
  serverThreads: number | "auto",
  log: Log,
): Promise<ModelResult> {
  log(`  raw loop (batch ${base.rawBatchSizes.join(", ")})...`);
  const raw = await runRawBaselines(model, base, threads);
  const rate = (batch: number): number => raw.find((r) => r.batch === batch)!.endToEndTokensPerSec;
  const workload = scaleToModel(base, rate(1), rate(16));

  const t0 = performance.now();
  const batchingServer = await ServerProcess.start({ modelDir: model.dir, threads: serverThreads, maxBatchSize: 16 });
  const bootMs = performance.now() - t0;
  let batching: BatchingResults;
  try {
    await warmUp(batchingServer, model, workload);
    batching = await runBatchingScenarios(batchingServer, model, workload, log);
  } finally {
    await batchingServer.stop();
  }

  const serial = await ServerProcess.start({ modelDir: model.dir, threads: serverThreads, maxBatchSize: 1 });
  let oneAtATime: ScenarioRow;
  try {
    await warmUp(serial, model, workload);
    const spec = baseSpec(serial, model, workload.maxTokens);
    oneAtATime = await measured(serial, "c=16, max-batch-size 1", workload.maxTokens, log, () =>
      closedLoop(workload.oneAtATimeRequests, 16, workload.scenarioTimeoutMs, () => spec),
    );
  } finally {
    await serial.stop();
  }
  return { model, raw, batching, oneAtATime, bootMs, workload };
}

