/**
 * GroupQueryAttention's cos_cache and sin_cache ([maxPositions][headDim/2]):
 * row p holds cos/sin(p * inv_freq[i]), inv_freq[i] = 1 / theta^(2i/headDim).
 *
 * Every step is rounded to float32 as Hugging Face's rotary embedding (and
 * so the exported graphs) computes it: inv_freq in float32, then the angle
 * p * inv_freq as a float32 product, so a large position's angle carries the
 * same rounding the unfused graph's Cos/Sin see. Only the cos/sin of that
 * angle is taken in double, then rounded once.
 */
export interface RopeCaches {
  cos: Float32Array;
  sin: Float32Array;
  rows: number;
  /** headDim / 2 */
  width: number;
}

export function inverseFrequencies(theta: number, headDim: number): Float32Array {
  const f = Math.fround;
  const out = new Float32Array(headDim / 2);
  for (let i = 0; i < out.length; i++) out[i] = f(1 / f(Math.pow(f(theta), f(f(2 * i) / headDim))));
  return out;
}

export function ropeCaches(theta: number, headDim: number, maxPositions: number): RopeCaches {
  const inv = inverseFrequencies(theta, headDim);
  const width = inv.length;
  const cos = new Float32Array(maxPositions * width);
  const sin = new Float32Array(maxPositions * width);
  for (let p = 0; p < maxPositions; p++) {
    for (let i = 0; i < width; i++) {
      const angle = Math.fround(p * inv[i]);
      cos[p * width + i] = Math.cos(angle);
      sin[p * width + i] = Math.sin(angle);
    }
  }
  return { cos, sin, rows: maxPositions, width };
}
