/** A seeded PRNG (mulberry32) and exponential inter-arrival gaps for Poisson arrivals. */

export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Arrival offsets in ms (first at 0) of `count` requests arriving at `ratePerSec` on average. */
export function poissonArrivals(count: number, ratePerSec: number, seed: number): number[] {
  const random = mulberry32(seed);
  const out: number[] = [];
  let t = 0;
  for (let i = 0; i < count; i++) {
    out.push(t);
    t += (-Math.log(1 - random()) / ratePerSec) * 1000;
  }
  return out;
}
