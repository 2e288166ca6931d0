/**
 * Picks the next token of one row: processors, then greedy argmax at
 * temperature 0 or a draw from the row's own seeded generator.
 *
 * The id is always in [0, vocab), whatever the parameters and the model's
 * floats. If every token is masked, the row takes id 0. That happens only
 * when the model's row holds no number at all (all -Infinity or NaN): biases,
 * penalties and temperature keep finite logits finite and every filter keeps
 * the top token. Any id is then as good as another; 0 is what argmax gives
 * too, whatever the seed. NaN arithmetic used to pick the last id instead, the
 * EOS of the default model, which ended the answer silently.
 */
import type { SamplingParams } from "../domain.ts";
import { buildProcessors, sanitize, type LogitsProcessor, type RowHistory } from "./logits-processors.ts";
import { SeededRandom } from "./rng.ts";

export class RowSampler implements RowHistory {
  readonly seen = new Set<number>();
  readonly generatedCounts = new Map<number, number>();
  private readonly processors: LogitsProcessor[];
  private readonly random: SeededRandom;
  private readonly greedy: boolean;

  constructor(params: SamplingParams, seed: number, choiceIndex: number, promptIds: ArrayLike<number>) {
    this.processors = buildProcessors(params);
    this.random = new SeededRandom(seed, choiceIndex);
    this.greedy = params.temperature === 0;
    for (let i = 0; i < promptIds.length; i++) this.seen.add(promptIds[i]);
  }

  /** Chooses a token from the row's logits (modified in place) and records it. */
  sample(logits: Float32Array): number {
    sanitize(logits);
    for (const p of this.processors) p(logits, this);
    const id = this.greedy ? argmax(logits) : drawFrom(logits, this.random.next());
    this.seen.add(id);
    this.generatedCounts.set(id, (this.generatedCounts.get(id) ?? 0) + 1);
    return id;
  }
}

export function argmax(values: Float32Array): number {
  // The running maximum in a local: about twice as fast over a 49k vocabulary as re-reading values[best].
  let best = 0;
  let top = values[0];
  for (let i = 1; i < values.length; i++) {
    const v = values[i];
    if (v > top) {
      top = v;
      best = i;
    }
  }
  return best;
}

/**
 * Inverse-CDF draw from softmax(logits) with u in [0, 1), for a row without
 * NaN or +Infinity (see `sanitize`). A fully masked row gives 0, as argmax does.
 */
export function drawFrom(logits: Float32Array, u: number): number {
  let max = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < logits.length; i++) if (logits[i] > max) max = logits[i];
  if (max === Number.NEGATIVE_INFINITY) return 0;
  let sum = 0;
  for (let i = 0; i < logits.length; i++) sum += Math.exp(logits[i] - max);
  let target = u * sum;
  let last = -1;
  for (let i = 0; i < logits.length; i++) {
    const w = Math.exp(logits[i] - max);
    if (w === 0) continue;
    last = i;
    target -= w;
    if (target < 0) return i;
  }
  // Rounding can leave a sliver of mass: the last possible token takes it.
  return last;
}
