/**
 * Collects the scheduler's step and release events into the summaries that
 * /metrics reports. One instance per engine; observing costs O(1).
 */
import { Summary } from "../metrics/summary.ts";
import type { Scheduler } from "./scheduler.ts";
import type { EngineMetrics } from "./engine.ts";

export class EngineMetricsCollector {
  private generatedTokens = 0;
  private readonly stepSeconds = new Summary();
  private readonly stepRows = new Summary();
  private readonly releaseSeconds = new Summary();
  private readonly releaseSteps = new Summary();

  constructor(private readonly scheduler: Scheduler) {
    scheduler.on("step", (ms, rows) => {
      this.generatedTokens += rows;
      this.stepSeconds.observe(ms / 1000);
      this.stepRows.observe(rows);
    });
    scheduler.on("rowLeft", (ms, steps) => {
      this.releaseSeconds.observe(ms / 1000);
      this.releaseSteps.observe(steps);
    });
  }

  snapshot(): EngineMetrics {
    return {
      queued: this.scheduler.queuedRows,
      running: this.scheduler.runningRows,
      generatedTokens: this.generatedTokens,
      stepSeconds: this.stepSeconds.snapshot(),
      stepRows: this.stepRows.snapshot(),
      releaseSeconds: this.releaseSeconds.snapshot(),
      releaseSteps: this.releaseSteps.snapshot(),
    };
  }
}
