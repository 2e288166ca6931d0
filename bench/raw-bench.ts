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
      for (let i = 0; i < workload.rawRepeats; i++) runs.push(await runRawLoop(session, batch, model.promptIds, workload.maxTokens));
      runs.sort((a, b) => a.decodeTokensPerSec - b.decodeTokensPerSec);
      results.push(runs[Math.floor(runs.length / 2)]!);
    }
    return results;
  } finally {
    await session.release();
  }
}
