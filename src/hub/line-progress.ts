/**
 * Progress as plain lines, for output that is not a terminal: the current
 * file every two seconds, and each file when it completes
 * (`onnx/model_q4.onnx 12.3/45.6 MB 3.2 MB/s ETA 10 s`, then `… done`).
 */
import { formatProgress, formatRate, formatSeconds, TransferMeter } from "./progress-format.ts";
import type { PullOutput, PullProgress } from "./pull-progress.ts";

export const LINE_INTERVAL_MS = 2000;

export class LineProgress implements PullProgress {
  private current: { path: string; meter: TransferMeter } | null = null;
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly output: PullOutput) {}

  start(): void {
    this.timer = setInterval(() => this.report(false), LINE_INTERVAL_MS);
    // A pull's own promises keep the process alive; the timer must not hold it after a failure.
    this.timer.unref();
  }

  beginFile(path: string, size: number): void {
    this.current = { path, meter: new TransferMeter(size) };
  }

  setHave(bytes: number): void {
    if (this.current) this.current.meter.have = bytes;
  }

  advance(bytes: number): void {
    this.current?.meter.advance(bytes);
  }

  endFile(): void {
    this.report(true);
    this.current = null;
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.current = null;
  }

  private report(done: boolean): void {
    if (!this.current) return;
    const { path, meter } = this.current;
    const eta = meter.eta();
    const tail = done ? "done" : `ETA ${eta === null ? "-" : formatSeconds(eta)}`;
    this.output.write(`${path} ${formatProgress(meter.have, meter.size)} ${formatRate(meter.rate())} ${tail}\n`);
  }
}
