/**
 * How far an optimized graph's next-token distributions are from the plain
 * fp32 graph's: one teacher-forced prefill of the same prompt in each, the
 * mean KL(fp32 || other) over every position, the largest absolute logit
 * difference, and how many positions pick the same argmax. Prefill of a long
 * prompt gives a few hundred positions in one run per file.
 */
import type * as ort from "onnxruntime-node";
import type { BenchModel } from "./models.ts";
import { RawSession } from "./raw-session.ts";

export interface Divergence {
  positions: number;
  meanKl: number;
  maxAbsDiff: number;
  sameArgmax: number;
}

/** Logits [positions, vocab] of one prefill of `promptIds` through `onnxPath`. */
export async function prefillLogits(model: BenchModel, onnxPath: string, promptIds: number[], threads: number): Promise<{ data: Float32Array; vocab: number }> {
  const session = await RawSession.open({ ...model, onnxPath }, threads);
  try {
    const { logits } = await session.run(session.feeds(1, promptIds, 0, null));
    return { data: (logits as ort.Tensor).data as Float32Array, vocab: logits.dims[2] };
  } finally {
    await session.release();
  }
}

export function divergence(reference: Float32Array, other: Float32Array, vocab: number): Divergence {
  if (reference.length !== other.length) throw new Error(`logits of different sizes: ${reference.length} vs ${other.length}`);
  const positions = reference.length / vocab;
  let kl = 0;
  let maxAbsDiff = 0;
  let sameArgmax = 0;
  for (let p = 0; p < positions; p++) {
    const ref = reference.subarray(p * vocab, (p + 1) * vocab);
    const oth = other.subarray(p * vocab, (p + 1) * vocab);
    const lp = logSoftmax(ref);
    const lq = logSoftmax(oth);
    let sum = 0;
    for (let v = 0; v < vocab; v++) {
      sum += Math.exp(lp[v]) * (lp[v] - lq[v]);
      maxAbsDiff = Math.max(maxAbsDiff, Math.abs(ref[v] - oth[v]));
    }
    kl += sum;
    if (argmax(ref) === argmax(oth)) sameArgmax++;
  }
  return { positions, meanKl: kl / positions, maxAbsDiff, sameArgmax };
}

function logSoftmax(x: Float32Array): Float64Array {
  let max = -Infinity;
  for (const v of x) max = Math.max(max, v);
  let sum = 0;
  for (const v of x) sum += Math.exp(v - max);
  const logZ = max + Math.log(sum);
  return Float64Array.from(x, (v) => v - logZ);
}

function argmax(x: Float32Array): number {
  let best = 0;
  for (let i = 1; i < x.length; i++) if (x[i] > x[best]) best = i;
  return best;
}
