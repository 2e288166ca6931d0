/**
 * The HTTP scenarios against one running server: each is timed on the
 * client, checked (every stream runs to max_tokens), and paired with the
 * server process's peak and current memory.
 */
import type { CompletionSpec } from "./completion-client.ts";
import { cancelMetrics, type CancelMetrics } from "./cancel-metrics.ts";
import { closedLoop, poissonLoad, type LoadRun } from "./load-runners.ts";
import type { BenchModel } from "./models.ts";
import { assertFullLength, scenarioMetrics, type ScenarioMetrics } from "./scenario-metrics.ts";
import type { ServerProcess } from "./server-process.ts";
import { fetchReleaseLatency, type ReleaseLatency } from "./server-metrics.ts";
import type { Workload } from "./workload.ts";

export interface ScenarioRow {
  name: string;
  metrics: ScenarioMetrics;
  /** VmHWM over the scenario (or since server start where it cannot be reset), KiB. */
  peakKiB: number | null;
  rssAfterKiB: number | null;
}

export interface BatchingResults {
  c1: ScenarioRow;
  c4: ScenarioRow;
  c16: ScenarioRow;
  poisson: ScenarioRow;
  poissonRatePerSec: number;
  cancel: CancelMetrics;
  /** The server's own timing of the cancelled rows: release sent -> row out of the batch. */
  release: ReleaseLatency;
  /** True when peaks are per scenario (clear_refs worked). */
  peakPerScenario: boolean;
}

export type Log = (line: string) => void;

export function baseSpec(server: ServerProcess, model: BenchModel, maxTokens: number): CompletionSpec {
  return {
    baseUrl: server.baseUrl,
    model: model.name,
    promptIds: model.promptIds,
    maxTokens,
    logitBias: Object.fromEntries(model.eosIds.map((id) => [String(id), -100])),
  };
}

/** A few short concurrent requests so lazy initialisation is not measured. */
export async function warmUp(server: ServerProcess, model: BenchModel, workload: Workload): Promise<void> {
  const spec = baseSpec(server, model, 8);
  const run = await closedLoop(4, 4, workload.scenarioTimeoutMs, () => spec);
  assertFullLength(run.timings, 8, "warm-up");
}

export async function measured(server: ServerProcess, name: string, maxTokens: number, log: Log, load: () => Promise<LoadRun>): Promise<ScenarioRow> {
  server.resetPeak();
  const run = await load();
  assertFullLength(run.timings, maxTokens, name);
  const memory = server.memory();
  const metrics = scenarioMetrics(run);
  log(`  ${name}: ${metrics.requests} requests in ${(run.wallMs / 1000).toFixed(1)} s, ${metrics.tokensPerSec.toFixed(1)} tok/s`);
  return { name, metrics, peakKiB: memory.hwmKiB, rssAfterKiB: memory.rssKiB };
}

export async function runBatchingScenarios(server: ServerProcess, model: BenchModel, w: Workload, log: Log): Promise<BatchingResults> {
  const spec = baseSpec(server, model, w.maxTokens);
  const same = (): CompletionSpec => spec;
  const peakPerScenario = server.resetPeak();
  const c1 = await measured(server, "c=1 sequential", w.maxTokens, log, () => closedLoop(w.sequentialRequests, 1, w.scenarioTimeoutMs, same));
  const c4 = await measured(server, "c=4", w.maxTokens, log, () => closedLoop(w.c4Requests, 4, w.scenarioTimeoutMs, same));
  const c16 = await measured(server, "c=16", w.maxTokens, log, () => closedLoop(w.c16Requests, 16, w.scenarioTimeoutMs, same));
  const rate = (w.poissonLoad * c16.metrics.tokensPerSec) / w.maxTokens;
  const poisson = await measured(server, `Poisson ${rate.toFixed(2)} req/s`, w.maxTokens, log, () =>
    poissonLoad(w.poissonRequests, rate, w.scenarioTimeoutMs, spec),
  );
  // Every other stream of 16 in flight is cancelled, each after a different number of
  // content chunks, so the cancels arrive at different steps rather than as one burst.
  const cancelRun = await closedLoop(w.cancelRequests, 16, w.scenarioTimeoutMs, (i) =>
    i % 2 === 1 ? { ...spec, cancelAfterChunks: w.cancelAfterChunks + (i >> 1) } : spec,
  );
  const cancel = cancelMetrics(cancelRun.timings, w.maxTokens);
  // No earlier scenario releases a row by message (every stream runs to max_tokens and
  // ends in the worker), so the server's release summaries hold exactly these cancels.
  const release = await fetchReleaseLatency(server.baseUrl);
  if (release.count !== cancel.cancelled) {
    throw new Error(`cancel: the server timed ${release.count} releases for ${cancel.cancelled} cancelled streams`);
  }
  log(`  cancel: ${cancel.cancelled}/${cancel.attempted} streams cancelled, row out of its batch p99 ${release.p99Steps.toFixed(2)} steps`);
  return { c1, c4, c16, poisson, poissonRatePerSec: rate, cancel, release, peakPerScenario };
}
