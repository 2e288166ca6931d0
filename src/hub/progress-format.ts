/**
 * How bytes, rates and times read in pull's output: decimal units as the
 * Hub shows sizes (1 MB = 10^6 bytes), both sides of "have/size" in the
 * size's unit so the pair reads at a glance.
 */
const UNITS = ["B", "kB", "MB", "GB", "TB"] as const;

function unitIndex(bytes: number): number {
  let index = 0;
  while (index < UNITS.length - 1 && bytes >= 1000 ** (index + 1)) index++;
  return index;
}

function inUnit(bytes: number, index: number): string {
  return index === 0 ? String(Math.round(bytes)) : (bytes / 1000 ** index).toFixed(1);
}

/** `12.3 MB` */
export function formatBytes(bytes: number): string {
  const index = unitIndex(bytes);
  return `${inUnit(bytes, index)} ${UNITS[index]}`;
}

/** `12.3/45.6 MB`: both in the unit of `size`. */
export function formatProgress(have: number, size: number): string {
  const index = unitIndex(size);
  return `${inUnit(have, index)}/${inUnit(size, index)} ${UNITS[index]}`;
}

/** `3.2 MB/s`, or `- B/s` before there is anything to measure. */
export function formatRate(bytesPerSecond: number | null): string {
  return bytesPerSecond === null ? "- B/s" : `${formatBytes(bytesPerSecond)}/s`;
}

/** `0.4 s`, `10 s`, `3 min 5 s`, `2 h 10 min`. */
export function formatSeconds(seconds: number): string {
  if (seconds < 9.95) return `${Math.max(0, seconds).toFixed(1)} s`;
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}

/** One file's or the whole pull's progress: what is on disk, what came over the network, and since when. */
export class TransferMeter {
  have = 0;
  private received = 0;
  private readonly startedAt = performance.now();

  constructor(readonly size: number) {}

  advance(bytes: number): void {
    this.have += bytes;
    this.received += bytes;
  }

  /** Bytes per second over the network since the start; null until a millisecond and a byte have passed. */
  rate(now: number = performance.now()): number | null {
    const seconds = (now - this.startedAt) / 1000;
    return seconds >= 0.001 && this.received > 0 ? this.received / seconds : null;
  }

  /** Seconds left at the rate so far; null when there is no rate yet. */
  eta(now: number = performance.now()): number | null {
    const rate = this.rate(now);
    return rate === null ? null : (this.size - this.have) / rate;
  }

  elapsedSeconds(now: number = performance.now()): number {
    return (now - this.startedAt) / 1000;
  }
}
