/**
 * The raw greedy baseline: prefill `batch` identical prompts at once (no
 * padding), then decode one token per row per step with argmax, feeding the
 * presents back as the past. Two rates: decode only (what one more token
 * costs, the batch-1 streaming comparison) and end to end (the same work a
 * server does for these requests: prefill included, the c=16 comparison).
 */
import type * as ort from "onnxruntime-node";
import type { RawSession } from "./raw-session.ts";

export interface RawLoopResult {
  batch: number;
  promptLength: number;
  /** Tokens per row, the one sampled from the prefill logits included. */
  tokensPerRow: number;
  prefillMs: number;
  decodeMs: number;
  /** batch x (tokensPerRow - 1) / decode time. */
  decodeTokensPerSec: number;
  /** batch x tokensPerRow / (prefill + decode time). */
  endToEndTokensPerSec: number;
  /** Runs this result summarises (1 for a single run). */
  runs: number;
}

export async function runRawLoop(session: RawSession, batch: number, prompt: number[], tokensPerRow: number): Promise<RawLoopResult> {
  const ids = Array.from({ length: batch * prompt.length }, (_, i) => prompt[i % prompt.length]);
  const t0 = performance.now();
  let step = await session.run(session.feeds(batch, ids, 0, null));
  let next = argmaxRows(step.logits, batch);
  const t1 = performance.now();
  let past = prompt.length;
  for (let t = 1; t < tokensPerRow; t++) {
    step = await session.run(session.feeds(batch, next, past, step.cache));
    next = argmaxRows(step.logits, batch);
    past += 1;
  }
  const t2 = performance.now();
  const decodeMs = t2 - t1;
  return {
    batch,
    promptLength: prompt.length,
    tokensPerRow,
    prefillMs: t1 - t0,
    decodeMs,
    decodeTokensPerSec: decodeMs > 0 ? (batch * (tokensPerRow - 1) * 1000) / decodeMs : Number.NaN,
    endToEndTokensPerSec: (batch * tokensPerRow * 1000) / (t2 - t0),
    runs: 1,
  };
}

/** Greedy token of each row from the logits of its last position ([batch, seq, vocab]). */
function argmaxRows(logits: ort.Tensor, batch: number): number[] {
  const [, seq, vocab] = logits.dims as [number, number, number];
  const data = logits.data as Float32Array;
  const out: number[] = [];
  for (let r = 0; r < batch; r++) {
    const start = (r * seq + seq - 1) * vocab;
    let best = 0;
    let bestValue = data[start];
    for (let v = 1; v < vocab; v++) {
      const x = data[start + v];
      if (x > bestValue) {
        bestValue = x;
        best = v;
      }
    }
    out.push(best);
  }
  return out;
}
