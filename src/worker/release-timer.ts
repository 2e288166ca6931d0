/**
 * Times how long a released row takes to leave its worker's batch, which is
 * what the release-latency metric reports. A release that lands while a
 * step runs leaves at that step's end (the row is in its runs); one that
 * lands between steps leaves at once. The "steps" figure divides by the
 * step the release waited on: the running one, or, between steps, the last
 * step's whole cycle from its start to now, so that the work between two
 * runs (sampling, posting, messages) counts as part of that step rather
 * than as a second one. Times are wallClockMs.
 */
import { wallClockMs } from "../wall-clock.ts";

interface DroppedRow {
  id: number;
  /** When its release was sent; NaN when it ended by itself (EOS, its token budget). */
  sentAt: number;
  /** NaN: it is in the running step and leaves when that step ends. */
  leftAt: number;
  /** The cycle it waited on when it left between steps; NaN: the running step. */
  waitedStepMs: number;
}

export interface ReleaseReport {
  released: Int32Array;
  releaseMs: Float64Array;
  releaseSteps: Float64Array;
}

export class ReleaseTimer {
  /** Rows dropped since the last report, reported with the next step. */
  private dropped: DroppedRow[] = [];
  private inStep = false;
  /** wallClockMs of the last step's start; NaN before the first. */
  private lastStepStarted = Number.NaN;

  get hasPending(): boolean {
    return this.dropped.length > 0;
  }

  /** A row left because the engine released it; `sentAt` is when the engine sent the release. */
  released(id: number, sentAt: number): void {
    if (this.inStep) {
      this.dropped.push({ id, sentAt, leftAt: Number.NaN, waitedStepMs: Number.NaN });
      return;
    }
    const now = wallClockMs();
    const waited = Number.isNaN(this.lastStepStarted) ? 0 : now - this.lastStepStarted;
    this.dropped.push({ id, sentAt, leftAt: now, waitedStepMs: waited });
  }

  /** A row the worker ended by itself: reported as released, not timed. */
  ended(id: number): void {
    this.dropped.push({ id, sentAt: Number.NaN, leftAt: Number.NaN, waitedStepMs: Number.NaN });
  }

  stepStarted(): number {
    this.lastStepStarted = wallClockMs();
    this.inStep = true;
    return this.lastStepStarted;
  }

  stepEnded(): void {
    this.inStep = false;
  }

  /** Everything dropped since the last report, timed against a step that ended at `ended` after `stepMs`. */
  take(ended: number, stepMs: number): ReleaseReport {
    const dropped = this.dropped;
    this.dropped = [];
    const releaseMs = Float64Array.from(dropped, (d) => (Number.isNaN(d.leftAt) ? ended : d.leftAt) - d.sentAt);
    const releaseSteps = Float64Array.from(dropped, (d, i) => {
      const waited = Number.isNaN(d.waitedStepMs) ? stepMs : d.waitedStepMs;
      return waited > 0 ? releaseMs[i] / waited : 0;
    });
    return { released: Int32Array.from(dropped, (d) => d.id), releaseMs, releaseSteps };
  }
}
