/** A PullOutput that keeps what a pull prints, as a log file or a pipe would get it (not a terminal). */
import type { PullOutput } from "../../../src/hub/pull-progress.ts";

export interface CollectedOutput extends PullOutput {
  text(): string;
  lines(): string[];
}

export function collectOutput(isTTY = false): CollectedOutput {
  const chunks: string[] = [];
  return {
    isTTY,
    columns: 120,
    write: (text: string) => {
      chunks.push(text);
      return true;
    },
    text: () => chunks.join(""),
    lines: () => chunks.join("").split("\n").filter((l) => l !== ""),
  };
}
