/**
 * A worker's step loop. Steps run back to back while the worker holds rows:
 * the engine is told of each step's tokens but is never waited for, and
 * control messages (admissions, releases) land between steps.
 *
 * Native runs must never be cut off mid-flight (onnxruntime-node aborts the
 * process when its callback finds the thread gone), so shutdown and the
 * test-only crash wait for the boundary between two steps.
 */
import type { FromWorker, ToWorker } from "./messages.ts";
import { stepResultTransfer } from "./messages.ts";
import type { RowStepper } from "./row-stepper.ts";

export interface StepLoopHost {
  post(message: FromWorker, transfer?: ArrayBuffer[]): void;
  /** Delivers the messages already queued for this thread, synchronously. */
  drainMessages(): void;
  /** Releases the session and lets the thread exit. */
  shutdown(): void;
}

type Stop = "shutdown" | "crash";

export class StepLoop {
  private running = false;
  private stepId = 0;
  private stopAt: Stop | null = null;

  constructor(
    private readonly stepper: RowStepper,
    private readonly host: StepLoopHost,
  ) {}

  /** Admissions and releases, applied at the next step boundary; starts the loop when it is idle. */
  control(message: Extract<ToWorker, { type: "control" }>): void {
    if (this.stopAt !== null) return;
    this.stepper.apply(message.admit, message.release, message.sentAt);
    if (!this.running) void this.run();
  }

  /** Shutdown or crash at the next boundary between steps (at once when idle). */
  stop(kind: Stop): void {
    this.stopAt = kind;
    if (!this.running) this.atBoundary();
  }

  private async run(): Promise<void> {
    this.running = true;
    while (await this.stepDue()) await this.stepOnce();
    this.running = false;
    this.atBoundary();
  }

  /**
   * One event-loop turn between steps, so nothing else in the worker starves;
   * then the queued messages. A release must reach the stepper before the
   * next step builds its feeds, or the row runs one step more than it should.
   * Messages are delivered only in the event loop's poll phase, and one that
   * lands after that phase (or during a GC pause between two steps) would
   * wait a whole step; taking the queued messages synchronously here closes
   * that window.
   */
  private async stepDue(): Promise<boolean> {
    if (!this.stepper.hasWork || this.stopAt !== null) return false;
    await new Promise((resolve) => setImmediate(resolve));
    this.host.drainMessages();
    return this.stepper.hasWork && this.stopAt === null;
  }

  private async stepOnce(): Promise<void> {
    const id = ++this.stepId;
    try {
      const result = await this.stepper.step(id);
      this.host.post(result, stepResultTransfer(result));
    } catch (error) {
      this.stepper.dropAll();
      this.host.post({ type: "stepError", stepId: id, message: (error as Error).message });
    }
  }

  private atBoundary(): void {
    if (this.stopAt === "crash") throw new Error("fault injection: worker crash requested");
    if (this.stopAt === "shutdown") {
      this.stepper.dropAll();
      this.host.shutdown();
    }
  }
}
