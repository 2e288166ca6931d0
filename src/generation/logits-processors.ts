/**
 * Logits processors: each one job, applied in place to one row's logits.
 * Order follows Hugging Face: biases and penalties on raw logits, then
 * temperature, then the truncation filters (top-k, top-p, min-p), which mask
 * tokens with -Infinity.
 *
 * Rows reach the processors through `sanitize`, so they hold no NaN and no
 * +Infinity. Every accepted parameter, however extreme, then keeps them so:
 * computed logits stay within the finite float32 range and -Infinity only ever
 * means "masked", because one Infinity in a row turns softmax into NaN. Biases
 * and OpenAI penalties cannot overflow (they add far less than float32's
 * spacing near its limit); the repetition penalty and temperature can, and
 * guard against it.
 */
import type { SamplingParams } from "../domain.ts";

/** The largest finite float32: computed logits saturate here instead of overflowing. */
export const FLOAT32_MAX = 3.4028234663852886e38;
const NEG = Number.NEGATIVE_INFINITY;

const saturate = (x: number): number => (x > FLOAT32_MAX ? FLOAT32_MAX : x < -FLOAT32_MAX ? -FLOAT32_MAX : x);

/**
 * Makes a model's row safe to do arithmetic on. NaN says nothing about a
 * token, so it is masked rather than compared (every comparison with NaN is
 * false, which silently broke argmax and the draw). +Infinity becomes the
 * largest float32, so such tokens tie at the top instead of making the row's
 * differences NaN.
 */
export function sanitize(logits: Float32Array): void {
  for (let i = 0; i < logits.length; i++) {
    const v = logits[i];
    // One comparison per logit on the common path: false only for NaN and +Infinity.
    if (!(v < Number.POSITIVE_INFINITY)) logits[i] = v === Number.POSITIVE_INFINITY ? FLOAT32_MAX : NEG;
  }
}

/** What a processor may know about its row besides the logits. */
export interface RowHistory {
  /** Prompt and generated ids, for the Hugging Face repetition penalty. */
  readonly seen: ReadonlySet<number>;
  /** How often each id was generated so far, for OpenAI's penalties. */
  readonly generatedCounts: ReadonlyMap<number, number>;
}

export type LogitsProcessor = (logits: Float32Array, history: RowHistory) => void;

export function logitBias(bias: ReadonlyArray<readonly [number, number]>): LogitsProcessor {
  return (logits) => {
    for (const [id, value] of bias) if (id < logits.length) logits[id] += value;
  };
}

/**
 * Hugging Face: divide positive logits by the penalty, multiply negative ones.
 * A penalty near 0 (5e-324 is accepted) or a logit near the float32 limits
 * overflows; the result saturates at +-FLOAT32_MAX, so every overflowed seen
 * token ties at the top (or bottom) rather than becoming an Infinity that
 * turns the draw into NaN. Masked tokens stay masked.
 */
export function repetitionPenalty(penalty: number): LogitsProcessor {
  return (logits, history) => {
    for (const id of history.seen) {
      if (id >= logits.length) continue;
      const v = logits[id];
      if (v === NEG) continue;
      logits[id] = saturate(v > 0 ? v / penalty : v * penalty);
    }
  };
}

/** OpenAI: logit -= count * frequency + (count > 0) * presence, over generated tokens. */
export function presenceFrequencyPenalty(presence: number, frequency: number): LogitsProcessor {
  return (logits, history) => {
    for (const [id, count] of history.generatedCounts) {
      if (id < logits.length) logits[id] -= count * frequency + presence;
    }
  };
}

/**
 * Divides the logits by t. Ordinary rows keep the plain product, bit for bit,
 * so seeded outputs never move. When the product would leave float32 (t near
 * 0: 1e-300 is accepted; or logits near the float32 limits), the row's
 * maximum is subtracted first, which softmax does not see: the top tokens sit
 * at 0 instead of +Infinity (Infinity - Infinity is NaN in the draw), and the
 * others saturate at -FLOAT32_MAX, so as t -> 0 the draw becomes the argmax,
 * as the limit of softmax(l / t) says.
 */
export function temperature(t: number): LogitsProcessor {
  const inverse = 1 / t;
  return (logits) => {
    // t >= 1 cannot overflow a sanitized row: skip the extra pass over the vocabulary.
    if (inverse <= 1) {
      for (let i = 0; i < logits.length; i++) logits[i] *= inverse;
      return;
    }
    let max = NEG;
    let largest = 0;
    for (let i = 0; i < logits.length; i++) {
      const v = logits[i];
      if (v === NEG) continue;
      if (v > max) max = v;
      if (Math.abs(v) > largest) largest = Math.abs(v);
    }
    // Also false when inverse is Infinity (t = 5e-324) and the row is all zeros: 0 * Infinity is NaN.
    if (largest * inverse <= FLOAT32_MAX) {
      for (let i = 0; i < logits.length; i++) logits[i] *= inverse;
      return;
    }
    for (let i = 0; i < logits.length; i++) {
      const v = logits[i];
      if (v !== NEG) logits[i] = Math.max((v - max) / t, -FLOAT32_MAX);
    }
  };
}

/** Keeps the k largest logits (ties with the k-th are kept too). */
export function topK(k: number): LogitsProcessor {
  return (logits) => {
    if (k >= logits.length) return;
    const threshold = kthLargest(logits, k);
    for (let i = 0; i < logits.length; i++) if (logits[i] < threshold) logits[i] = Number.NEGATIVE_INFINITY;
  };
}

/** Keeps the smallest set of most likely tokens whose probability reaches p. */
export function topP(p: number): LogitsProcessor {
  return (logits) => {
    const probs = softmax(logits);
    // Sort only tokens that can matter: if the ones above a tiny threshold
    // already reach p, the nucleus lies among them; otherwise sort them all.
    let candidates = indicesWhere(probs, (q) => q >= 1e-7);
    if (sumAt(probs, candidates) < p) candidates = indicesWhere(probs, () => true);
    candidates.sort((a, b) => probs[b] - probs[a] || a - b);
    const keep = new Uint8Array(logits.length);
    let cumulative = 0;
    for (const id of candidates) {
      keep[id] = 1;
      cumulative += probs[id];
      if (cumulative >= p) break;
    }
    for (let i = 0; i < logits.length; i++) if (!keep[i]) logits[i] = Number.NEGATIVE_INFINITY;
  };
}

/** Drops tokens whose probability is below minP times the top probability. */
export function minP(minRatio: number): LogitsProcessor {
  return (logits) => {
    const probs = softmax(logits);
    let top = 0;
    for (let i = 0; i < probs.length; i++) if (probs[i] > top) top = probs[i];
    const floor = minRatio * top;
    for (let i = 0; i < logits.length; i++) if (probs[i] < floor) logits[i] = Number.NEGATIVE_INFINITY;
  };
}

/** The processors a row needs, in order; neutral settings add nothing. */
export function buildProcessors(s: SamplingParams): LogitsProcessor[] {
  const list: LogitsProcessor[] = [];
  if (s.logitBias.length > 0) list.push(logitBias(s.logitBias));
  if (s.repetitionPenalty !== 1) list.push(repetitionPenalty(s.repetitionPenalty));
  if (s.presencePenalty !== 0 || s.frequencyPenalty !== 0) {
    list.push(presenceFrequencyPenalty(s.presencePenalty, s.frequencyPenalty));
  }
  if (s.temperature > 0) {
    if (s.temperature !== 1) list.push(temperature(s.temperature));
    if (s.topK > 0) list.push(topK(s.topK));
    if (s.topP < 1) list.push(topP(s.topP));
    if (s.minP > 0) list.push(minP(s.minP));
  }
  return list;
}

/** Probabilities of a row; a fully masked row has no mass at all (zeros, not NaN). */
export function softmax(logits: Float32Array): Float64Array {
  let max = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < logits.length; i++) if (logits[i] > max) max = logits[i];
  const out = new Float64Array(logits.length);
  if (max === NEG) return out;
  let sum = 0;
  for (let i = 0; i < logits.length; i++) {
    const e = Math.exp(logits[i] - max);
    out[i] = e;
    sum += e;
  }
  for (let i = 0; i < out.length; i++) out[i] /= sum;
  return out;
}

function indicesWhere(values: Float64Array, keep: (v: number) => boolean): number[] {
  const out: number[] = [];
  for (let i = 0; i < values.length; i++) if (keep(values[i])) out.push(i);
  return out;
}

function sumAt(values: Float64Array, ids: number[]): number {
  let s = 0;
  for (const id of ids) s += values[id];
  return s;
}

/** The k-th largest value (1-based), with a size-k min-heap: O(n log k). */
export function kthLargest(values: Float32Array, k: number): number {
  const heap = new Float64Array(k);
  let size = 0;
  const siftDown = (start: number): void => {
    let i = start;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < size && heap[l] < heap[m]) m = l;
      if (r < size && heap[r] < heap[m]) m = r;
      if (m === i) return;
      [heap[i], heap[m]] = [heap[m], heap[i]];
      i = m;
    }
  };
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (size < k) {
      let j = size++;
      heap[j] = v;
      while (j > 0) {
        const parent = (j - 1) >> 1;
        if (heap[parent] <= heap[j]) break;
        [heap[parent], heap[j]] = [heap[j], heap[parent]];
        j = parent;
      }
    } else if (v > heap[0]) {
      heap[0] = v;
      siftDown(0);
    }
  }
  return heap[0];
}
