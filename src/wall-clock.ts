/**
 * Milliseconds on one clock shared by every thread. performance.now() counts
 * from each thread's own start; adding the thread's timeOrigin puts a worker's
 * and the main thread's readings on the same scale, at sub-millisecond
 * resolution, so a latency can start on one thread and end on the other.
 */
export function wallClockMs(): number {
  return performance.timeOrigin + performance.now();
}
