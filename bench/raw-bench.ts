/** Raw-loop baselines of one model at every batch size of the workload, after a short warm-up. */
import type { BenchModel } from "./models.ts";
import { runRawLoop, type RawLoopResult } from "./raw-loop.ts";
import { RawSession } from "./raw-session.ts";
import type { Workload } from "./workload.ts";

export async function runRawBaselines(model: BenchModel, workload: Workload, threads: number): Promise<RawLoopResult[]> {
  const session = await RawSession.open(model, threads);
  try {
    const results: RawLoopResult[] = [];
    for (const batch of workload.rawBatchSizes) {
      await runRawLoop(session, batch, model.promptIds, 4);
      const runs: RawLoopResult[] = [];
      const started = performance.now();
      while (runs.length < workload.rawRepeats || (performance.now() - started < workload.minRawMs && runs.length < 500)) {
        runs.push(await runRawLoop(session, batch, model.promptIds, workload.maxTokens));
      }
      const median = (values: number[]): number => values.sort((a, b) => a - b)[Math.floor(values.length / 2)];
      // The reported run is the one with the median decode rate; the end-to-end rate is its own median.
      runs.sort((a, b) => a.decodeTokensPerSec - b.decodeTokensPerSec);
      results.push({ ...runs[Math.floor(runs.length / 2)], endToEndTokensPerSec: median(runs.map((r) => r.endToEndTokensPerSec)), runs: runs.length });
    }
    return results;
  } finally {
    await session.release();
  }
}
