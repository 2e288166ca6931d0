/**
 * CPU that processes other than the bench and its servers take during a
 * window, in cores: the system's busy time (steal included, so a VM's
 * neighbours count too) less the bench process's and its servers', from
 * /proc (Linux). The machine may be shared; a paired round measured while
 * something else ran says so in the report. Null where /proc cannot be read.
 */
import { readFileSync } from "node:fs";

/** USER_HZ, the unit of /proc's CPU times on Linux. */
const TICKS_PER_SEC = 100;

/** All CPUs' busy ticks: everything but idle and iowait. */
function systemBusyTicks(): number {
  const fields = readFileSync("/proc/stat", "utf8").split("\n", 1)[0].trim().split(/\s+/).slice(1).map(Number);
  return fields.reduce((a, b) => a + b, 0) - fields[3] - fields[4];
}

/** utime + stime of a process, all its threads; 0 once it is gone. */
function processTicks(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return 0;
  }
}

/** Starts a window; the returned function ends it and gives the others' CPU over it in cores. */
export function othersCpu(ours: number[]): () => number | null {
  const snapshot = (): { at: number; others: number } | null => {
    try {
      return { at: performance.now(), others: systemBusyTicks() - [process.pid, ...ours].reduce((sum, pid) => sum + processTicks(pid), 0) };
    } catch {
      return null;
    }
  };
  const start = snapshot();
  return () => {
    const end = snapshot();
    if (start === null || end === null || end.at <= start.at) return null;
    return Math.max(0, (end.others - start.others) / TICKS_PER_SEC / ((end.at - start.at) / 1000));
  };
}
