/**
 * Simulated constrained generation for the mask-cost bench: each step takes
 * the row's mask, draws a random allowed token, and advances, as a worker
 * does with a model's logits. A uniform draw over a large vocabulary mostly
 * picks long tokens that keep a string or an array going, so the draw leans
 * a little towards tokens that close something (a quote, a bracket, a
 * comma) and towards EOS once the value is complete: sequences then end the
 * way real ones do instead of all running into the step cap.
 */
import { isAllowed, type TokenMask } from "../src/generation/constraint/token-mask.ts";
import type { ConstraintVocabulary } from "../src/generation/constraint/row-constraint.ts";

/** Chance of drawing among the allowed tokens that hold a closing byte, when there are any. */
const CLOSE_BIAS = 0.3;
/** Chance of drawing EOS when the value is complete and EOS is allowed. */
const EOS_BIAS = 0.8;
const CLOSERS = new Set([0x22, 0x2c, 0x5d, 0x7d]); // " , ] }

export class TokenPicker {
  /** Per id: 1 when its bytes hold a closing byte. */
  private readonly closes: Uint8Array;
  private readonly all: Int32Array;
  private readonly closing: Int32Array;
  /** How many tokens the last mask allowed. */
  lastCount = 0;

  constructor(
    private readonly vocabulary: ConstraintVocabulary,
    private readonly random: () => number,
  ) {
    const { table, vocabSize } = vocabulary;
    this.closes = new Uint8Array(vocabSize);
    table.bytes.forEach((bytes, id) => {
      if (bytes && bytes.some((b) => CLOSERS.has(b))) this.closes[id] = 1;
    });
    this.all = new Int32Array(vocabSize);
    this.closing = new Int32Array(vocabSize);
  }

  /** A random token the mask allows. */
  pick(mask: TokenMask): number {
    for (const eos of this.vocabulary.eosIds) if (isAllowed(mask, eos) && this.random() < EOS_BIAS) return eos;
    let n = 0;
    let c = 0;
    for (let w = 0; w < mask.length; w++) {
      let bits = mask[w];
      while (bits !== 0) {
        const low = bits & -bits;
        const id = (w << 5) + (31 - Math.clz32(low));
        bits ^= low;
        this.all[n++] = id;
        if (this.closes[id]) this.closing[c++] = id;
      }
    }
    this.lastCount = n;
    if (n === 0) throw new Error("the mask allows no token: a dead end");
    if (c > 0 && this.random() < CLOSE_BIAS) return this.closing[Math.floor(this.random() * c)];
    return this.all[Math.floor(this.random() * n)];
  }
}
