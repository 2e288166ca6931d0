/** Resident memory of a process from /proc (Linux only): peak (VmHWM) and current (VmRSS). */
import { readFileSync, writeFileSync } from "node:fs";

export interface ProcMemory {
  /** Peak resident set size in KiB; null where /proc cannot be read. */
  hwmKiB: number | null;
  rssKiB: number | null;
}

export function readProcMemory(pid: number): ProcMemory {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const field = (name: string): number | null => {
      const match = new RegExp(`^${name}:\\s+(\\d+)\\s+kB`, "m").exec(status);
      return match ? Number(match[1]) : null;
    };
    return { hwmKiB: field("VmHWM"), rssKiB: field("VmRSS") };
  } catch {
    return { hwmKiB: null, rssKiB: null };
  }
}

/**
 * Resets the process's peak RSS to its current RSS (writing "5" to
 * /proc/PID/clear_refs, Linux >= 4.0), so the next VmHWM is the peak of
 * one scenario. Returns false where the kernel or permissions refuse.
 */
export function resetPeakMemory(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, "5");
    return true;
  } catch {
    return false;
  }
}
