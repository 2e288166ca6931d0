/**
 * The quantizer math alone: code packing (nibble order), block scales and
 * zero points, the matrix layout MatMulNBits reads, and the float16 scale
 * rounding. Properties run over random blocks and shapes.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  dequantizeMatrix,
  packCodes,
  quantizeBlock,
  quantizeMatrix,
  unpackCodes,
  zeroPointOf,
  zeroPointRowBytes,
  type Bits,
} from "../../src/optimize/block-quantizer.ts";
import { floatToHalfBits, roundToHalf } from "../../src/optimize/half.ts";
import { float16ToFloat32 } from "../../src/generation/float16.ts";

const bitsArb = fc.constantFrom<Bits>(4, 8);
const floatArb = fc.float({ min: -100, max: 100, noNaN: true, noDefaultInfinity: true });

describe("code packing", () => {
  it("4-bit: the first code of a pair is the low nibble", () => {
    const out = new Uint8Array(2);
    packCodes(Uint8Array.of(0x1, 0x2, 0xf, 0x0), 4, out, 0);
    expect([...out]).toEqual([0x21, 0x0f]);
    expect([...unpackCodes(out, 4, 0, 4)]).toEqual([1, 2, 15, 0]);
  });

  it("8-bit: one code per byte, in order", () => {
    const out = new Uint8Array(3);
    packCodes(Uint8Array.of(7, 200, 255), 8, out, 0);
    expect([...out]).toEqual([7, 200, 255]);
  });

  it("pack then unpack gives the codes back, at any offset", () => {
    fc.assert(
      fc.property(bitsArb, fc.integer({ min: 1, max: 32 }), fc.integer({ min: 0, max: 7 }), fc.integer(), (bits, pairs, offset, seed) => {
        const count = pairs * 2;
        const codes = Uint8Array.from({ length: count }, (_, i) => Math.abs(seed * 31 + i * 17) % (1 << bits));
        const blob = new Uint8Array(offset + (count * bits) / 8);
        packCodes(codes, bits, blob, offset);
        expect([...unpackCodes(blob, bits, offset, count)]).toEqual([...codes]);
      }),
    );
  });
});

describe("one block", () => {
  it("symmetric: the largest magnitude maps exactly to code 0, zero to the midpoint", () => {
    const q = quantizeBlock(Float32Array.of(-2, 0, 1, 0.5), 4, true, Math.fround);
    expect(q.scale).toBe(0.25);
    expect(q.zeroPoint).toBe(8);
    expect([...q.codes]).toEqual([0, 8, 12, 10]);
  });

  it("asymmetric: spans [min, max] with an integer zero point, so 0 is exact", () => {
    const q = quantizeBlock(Float32Array.of(-1, 0, 2), 4, false, Math.fround);
    expect(q.scale).toBeCloseTo(3 / 15, 6);
    expect(q.zeroPoint).toBe(5);
    expect([...q.codes]).toEqual([0, 5, 15]);
  });

  it("an all-zero block has scale 0 and every code at the zero point", () => {
    for (const symmetric of [true, false]) {
      const q = quantizeBlock(new Float32Array(8), 8, symmetric, Math.fround);
      expect(q.scale).toBe(0);
      expect(new Set(q.codes)).toEqual(new Set([q.zeroPoint]));
    }
  });

  it("every value dequantizes within one step of its scale, and 0 exactly", () => {
    fc.assert(
      fc.property(bitsArb, fc.boolean(), fc.array(floatArb, { minLength: 1, maxLength: 64 }), (bits, symmetric, list) => {
        const values = Float32Array.from([...list, 0]);
        const q = quantizeBlock(values, bits, symmetric, Math.fround);
        values.forEach((v, i) => {
          expect(q.codes[i]).toBeLessThan(1 << bits);
          const back = (q.codes[i] - q.zeroPoint) * q.scale;
          expect(Math.abs(back - v)).toBeLessThanOrEqual(Math.abs(q.scale) * 1.0001 + 1e-30);
        });
        expect(Math.abs((q.codes[values.length - 1] - q.zeroPoint) * q.scale)).toBe(0);
      }),
    );
  });

  it("rounding inside the step: error at most half a step away from the clamped ends", () => {
    fc.assert(
      fc.property(bitsArb, fc.array(floatArb, { minLength: 2, maxLength: 64 }), (bits, list) => {
        const values = Float32Array.from(list);
        const q = quantizeBlock(values, bits, false, Math.fround);
        values.forEach((v, i) => {
          const code = q.codes[i];
          if (code === 0 || code === (1 << bits) - 1) return;
          // + 1e-30: a block of subnormals (fast-check draws 1.4e-45) has a scale that underflows to 0.
          expect(Math.abs((code - q.zeroPoint) * q.scale - v)).toBeLessThanOrEqual(q.scale * 0.5001 + 1e-30);
        });
      }),
    );
  });
});

describe("whole matrix, MatMulNBits layout", () => {
  const shapeArb = fc.record({
    k: fc.integer({ min: 1, max: 100 }),
    n: fc.integer({ min: 1, max: 6 }),
    bits: bitsArb,
    symmetric: fc.boolean(),
    seed: fc.integer(),
  });

  function matrix(k: number, n: number, seed: number): Float32Array {
    return Float32Array.from({ length: k * n }, (_, i) => Math.sin(seed + i * 12.9898) * 3);
  }

  it("dequantizes every element within its block's step; padding past K never leaks", () => {
    fc.assert(
      fc.property(shapeArb, ({ k, n, bits, symmetric, seed }) => {
        const format = { bits, blockSize: 32, symmetric };
        const w = matrix(k, n, seed);
        const q = quantizeMatrix(w, k, n, "KN", format);
        expect(q.kBlocks).toBe(Math.ceil(k / 32));
        expect(q.packed.length).toBe(n * q.kBlocks * ((32 * bits) / 8));
        expect(q.scales.length).toBe(n * q.kBlocks);
        expect(q.zeroPoints?.length ?? 0).toBe(symmetric ? 0 : n * zeroPointRowBytes(q.kBlocks, bits));
        const back = dequantizeMatrix(q, format);
        for (let r = 0; r < k; r++) {
          for (let c = 0; c < n; c++) {
            const step = Math.abs(q.scales[c * q.kBlocks + Math.floor(r / 32)]);
            expect(Math.abs(back[r * n + c] - w[r * n + c])).toBeLessThanOrEqual(step * 1.0001);
          }
        }
      }),
    );
  });

  it("a [N][K] weight (behind a Transpose) quantizes exactly like its [K][N] transpose", () => {
    fc.assert(
      fc.property(shapeArb, ({ k, n, bits, symmetric, seed }) => {
        const format = { bits, blockSize: 32, symmetric };
        const w = matrix(k, n, seed);
        const t = new Float32Array(k * n);
        for (let r = 0; r < k; r++) for (let c = 0; c < n; c++) t[c * k + r] = w[r * n + c];
        expect(quantizeMatrix(t, k, n, "NK", format)).toEqual(quantizeMatrix(w, k, n, "KN", format));
      }),
    );
  });

  it("4-bit zero points pack two blocks per byte, low nibble first, per output row", () => {
    // 3 blocks per column: each zero-point row is 2 bytes, the last high nibble unused.
    const k = 96;
    const n = 2;
    const w = Float32Array.from({ length: k * n }, (_, i) => ((i % 7) - 1) * (1 + Math.floor(i / (n * 32))));
    const q = quantizeMatrix(w, k, n, "KN", { bits: 4, blockSize: 32, symmetric: false });
    expect(q.zeroPoints!.length).toBe(4);
    for (let c = 0; c < n; c++) {
      for (let b = 0; b < 3; b++) {
        const block = Float32Array.from({ length: 32 }, (_, i) => w[(b * 32 + i) * n + c]);
        const expected = quantizeBlock(block, 4, false, Math.fround).zeroPoint;
        expect(zeroPointOf(q, 4, c, b)).toBe(expected);
        expect((q.zeroPoints![c * 2 + (b >> 1)] >> ((b & 1) * 4)) & 0xf).toBe(expected);
      }
    }
  });

  it("float16 models: every scale is exactly representable in float16", () => {
    const w = matrix(64, 3, 5);
    const q = quantizeMatrix(w, 64, 3, "KN", { bits: 4, blockSize: 32, symmetric: true }, roundToHalf);
    for (const s of q.scales) expect(roundToHalf(s)).toBe(s);
  });
});

describe("float32 -> float16 bits", () => {
  it("is the exact inverse of the half -> float table for every non-NaN half", () => {
    const all = Uint16Array.from({ length: 65536 }, (_, i) => i);
    const floats = float16ToFloat32(all);
    for (let h = 0; h < 65536; h++) {
      if (Number.isNaN(floats[h])) continue;
      expect(floatToHalfBits(floats[h])).toBe(h);
    }
  });

  it("rounds to the nearest half, ties to even, and saturates to infinity", () => {
    expect(floatToHalfBits(1 + 2 ** -11)).toBe(0x3c00); // tie: stays on the even 1.0
    expect(floatToHalfBits(1 + 3 * 2 ** -11)).toBe(0x3c02); // tie: goes up to even
    expect(floatToHalfBits(70000)).toBe(0x7c00);
    expect(floatToHalfBits(-1e-9)).toBe(0x8000);
    fc.assert(
      fc.property(fc.float({ min: -60000, max: 60000, noNaN: true }), (x) => {
        const y = roundToHalf(x);
        const ulp = Math.max(2 ** (Math.floor(Math.log2(Math.max(Math.abs(x), 2 ** -14))) - 10), 2 ** -24);
        expect(Math.abs(y - x)).toBeLessThanOrEqual(ulp / 2);
      }),
    );
  });
});
