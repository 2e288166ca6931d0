/**
 * Load shapes over a bounded number of requests and a bounded time: a
 * closed loop with N requests in flight, and open-loop Poisson arrivals.
 * Past the deadline every outstanding request is aborted and the run fails.
 */
import { setMaxListeners } from "node:events";
import { streamCompletion, type CompletionSpec, type StreamTiming } from "./completion-client.ts";
import { poissonArrivals } from "./rng.ts";

export interface LoadRun {
  timings: StreamTiming[];
  wallMs: number;
}

/** `count` requests, at most `concurrency` in flight; `specFor(i)` may vary a request (e.g. cancel some). */
export async function closedLoop(
  count: number,
  concurrency: number,
  timeoutMs: number,
  specFor: (index: number) => CompletionSpec,
): Promise<LoadRun> {
  return bounded(timeoutMs, async (signal) => {
    const timings: StreamTiming[] = [];
    let next = 0;
    const client = async (): Promise<void> => {
      while (next < count && !signal.aborted) {
        const index = next++;
        timings[index] = await streamCompletion({ ...specFor(index), signal });
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, count) }, client));
    return timings;
  });
}

/** `count` requests arriving as a Poisson process at `ratePerSec` (fixed seed), however many are in flight. */
export async function poissonLoad(
  count: number,
  ratePerSec: number,
  timeoutMs: number,
  spec: CompletionSpec,
): Promise<LoadRun> {
  const arrivals = poissonArrivals(count, ratePerSec, 20261128);
  return bounded(timeoutMs, async (signal) => {
    const t0 = performance.now();
    return Promise.all(
      arrivals.map(async (at) => {
        const wait = at - (performance.now() - t0);
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        if (signal.aborted) throw new Error("aborted");
        return streamCompletion({ ...spec, signal });
      }),
    );
  });
}

async function bounded(timeoutMs: number, body: (signal: AbortSignal) => Promise<StreamTiming[]>): Promise<LoadRun> {
  const abort = new AbortController();
  // Every stream in flight listens on this one signal; more than ten is expected, not a leak.
  setMaxListeners(0, abort.signal);
  const timer = setTimeout(() => abort.abort(new Error(`scenario exceeded ${timeoutMs} ms`)), timeoutMs);
  const t0 = performance.now();
  try {
    const timings = await body(abort.signal);
    return { timings, wallMs: performance.now() - t0 };
  } catch (error) {
    abort.abort(error);
    if (abort.signal.reason instanceof Error && abort.signal.reason !== error) throw abort.signal.reason;
    throw error;
  } finally {
    clearTimeout(timer);
  }
}
