/** In-process generation runs repeated a set number of times, their rates pooled over all the runs' tokens and times. */

export interface TimedRun {
  prefillMs: number;
  /** First new token -> last new token. */
  decodeMs: number;
}

export interface PooledRates {
  /** rows x (tokensPerRow - 1) per run / decode time: what one more token costs. */
  decode: number;
  /** rows x tokensPerRow per run / (prefill + decode time). */
  endToEnd: number;
}

/** Runs `once` `runs` times (once at least), one after another. */
export async function pooledRates(once: () => Promise<TimedRun>, rows: number, tokensPerRow: number, runs: number): Promise<PooledRates> {
  const n = Math.max(1, runs);
  let decodeMs = 0;
  let totalMs = 0;
  for (let i = 0; i < n; i++) {
    const r = await once();
    decodeMs += r.decodeMs;
    totalMs += r.prefillMs + r.decodeMs;
  }
  return {
    decode: (n * rows * (tokensPerRow - 1) * 1000) / decodeMs,
    endToEnd: (n * rows * tokensPerRow * 1000) / totalMs,
  };
}
