/**
 * Progress bars on a terminal, drawn by cli-progress: one bar for the
 * whole pull and one per file, each with bytes, rate and time left. The
 * numbers come from our own meters (bytes in decimal units, the rate over
 * the network only), not from cli-progress's value/eta, which know
 * neither resumed bytes nor units.
 */
import cliProgress from "cli-progress";
import { formatProgress, formatRate, formatSeconds, TransferMeter } from "./progress-format.ts";
import type { PullOutput, PullProgress } from "./pull-progress.ts";

const NAME_WIDTH = 24;
/** Everything on a line but the bar: name, percentage, amounts, rate, time left at their widest. */
const TEXT_WIDTH = 70;
const FORMAT = "{name} |{bar}| {percentage}% {amount} {speed} {left}";

interface Tracked {
  bar: cliProgress.SingleBar;
  name: string;
  meter: TransferMeter;
}

export class BarProgress implements PullProgress {
  private readonly bars: cliProgress.MultiBar;
  private total: Tracked | null = null;
  private current: Tracked | null = null;
  private closed = false;

  constructor(output: PullOutput) {
    this.bars = new cliProgress.MultiBar({
      // cli-progress only writes strings and moves the cursor with readline, which needs nothing but write() and isTTY.
      stream: output as unknown as NodeJS.WritableStream,
      format: FORMAT,
      // The bar takes what the text leaves of the line: cli-progress cuts a line at the terminal's width.
      barsize: Math.min(40, Math.max(8, (output.columns ?? 80) - TEXT_WIDTH)),
      hideCursor: true,
      autopadding: true,
      // Its own SIGINT handler would keep Ctrl-C from ending the process.
      gracefulExit: false,
    });
  }

  start(totalBytes: number, files: number): void {
    this.total = this.track(`total (${files} file${files === 1 ? "" : "s"})`, totalBytes);
  }

  beginFile(path: string, size: number): void {
    this.current = this.track(path, size);
  }

  setHave(bytes: number): void {
    if (!this.current) return;
    const before = this.current.meter.have;
    this.current.meter.have = bytes;
    if (this.total) this.total.meter.have += bytes - before;
    this.redraw();
  }

  advance(bytes: number): void {
    this.current?.meter.advance(bytes);
    this.total?.meter.advance(bytes);
    this.redraw();
  }

  endFile(): void {
    this.redraw();
    this.current = null;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.redraw();
    this.bars.stop();
  }

  private track(name: string, size: number): Tracked {
    const tracked: Tracked = { name, meter: new TransferMeter(size), bar: this.bars.create(Math.max(size, 1), 0, {}) };
    this.draw(tracked);
    return tracked;
  }

  private redraw(): void {
    if (this.total) this.draw(this.total);
    if (this.current) this.draw(this.current);
  }

  private draw({ bar, name, meter }: Tracked): void {
    const eta = meter.eta();
    const shown = name.length > NAME_WIDTH ? `…${name.slice(-(NAME_WIDTH - 1))}` : name.padEnd(NAME_WIDTH);
    bar.update(meter.size === 0 ? 1 : meter.have, {
      name: shown,
      amount: formatProgress(meter.have, meter.size),
      speed: formatRate(meter.rate()),
      left: meter.have >= meter.size ? "done" : `ETA ${eta === null ? "-" : formatSeconds(eta)}`,
    });
  }
}
