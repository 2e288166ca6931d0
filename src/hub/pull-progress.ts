/**
 * What a pull reports while it downloads, and where: bars on a terminal
 * (bar-progress.ts), plain lines anywhere else (line-progress.ts), since a
 * log file or CI output full of redrawn bars is unreadable.
 */
import { BarProgress } from "./bar-progress.ts";
import { LineProgress } from "./line-progress.ts";

/** Where pull writes: process.stdout or stderr, or a test's collector. */
export interface PullOutput {
  write(text: string): unknown;
  /** True on a terminal: bars are drawn with cursor moves. */
  isTTY?: boolean;
  /** The terminal's width, when known. */
  columns?: number;
}

export interface PullProgress {
  /** The downloads begin: `totalBytes` over `files` files. */
  start(totalBytes: number, files: number): void;
  beginFile(path: string, size: number): void;
  /** How many bytes of the current file are on disk: a resumed partial file, or 0 when a download starts over. */
  setHave(bytes: number): void;
  /** `bytes` more of the current file arrived. */
  advance(bytes: number): void;
  /** The current file is complete and verified. */
  endFile(): void;
  /** Stops every timer and bar; safe to call twice, and after a failure. */
  close(): void;
}

export function createProgress(output: PullOutput): PullProgress {
  return output.isTTY === true ? new BarProgress(output) : new LineProgress(output);
}
