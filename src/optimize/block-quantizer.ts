/**
 * Block-wise weight quantization in the layout of ONNX Runtime's
 * com.microsoft.MatMulNBits (docs/ContribOperators.md):
 *
 * - B, uint8 [N][kBlocks][blobSize]: for output column n, the K weights of
 *   that column are cut into blocks of `blockSize` along K; the last block
 *   is zero-padded (kBlocks = ceil(K / blockSize)). A 4-bit block packs two
 *   codes per byte, the first in the LOW nibble; an 8-bit block is one code
 *   per byte.
 * - scales, [N][kBlocks], in A's float type.
 * - zero_points, uint8 [N][ceil(kBlocks * bits / 8)], packed like B (two
 *   4-bit zero points per byte, low nibble first); when absent ORT uses
 *   2^(bits-1).
 *
 * Dequantized weight = (code - zero_point) * scale. Pure functions only:
 * the graph rewrite and the tests call them alike.
 */

export type Bits = 4 | 8;

export interface BlockFormat {
  bits: Bits;
  blockSize: number;
  /** Symmetric: no zero-point tensor (ORT's implied 2^(bits-1)); else one zero point per block. */
  symmetric: boolean;
}

export interface QuantizedMatrix {
  k: number;
  n: number;
  kBlocks: number;
  blobSize: number;
  /** [N][kBlocks][blobSize] */
  packed: Uint8Array;
  /** [N][kBlocks], already rounded to the type they are stored in. */
  scales: Float32Array;
  /** [N][zeroPointRowBytes], or null when symmetric. */
  zeroPoints: Uint8Array | null;
}

/** How the weight sits in memory: MatMul's B is [K][N]; a Transpose'd initializer is [N][K]. */
export type WeightLayout = "KN" | "NK";

export interface BlockCodes {
  /** One code per element, 0 .. 2^bits - 1. */
  codes: Uint8Array;
  scale: number;
  zeroPoint: number;
}

export function kBlocksOf(k: number, blockSize: number): number {
  return Math.ceil(k / blockSize);
}

export function zeroPointRowBytes(kBlocks: number, bits: Bits): number {
  return Math.ceil((kBlocks * bits) / 8);
}

/**
 * Quantizes one block. `roundScale` gives the scale as it will be stored
 * (Math.fround for float32, a float16 round trip for float16 models), and
 * the codes are chosen against that stored scale.
 *
 * Symmetric follows ORT's own quantizer: the element of largest magnitude,
 * sign kept, maps to code 0 (scale = v / -2^(bits-1)), so it is exact and
 * the range [-2^(bits-1), 2^(bits-1)-1] is used fully on its side.
 * Asymmetric spans [min(x, 0), max(x, 0)] over all 2^bits codes, with a
 * rounded zero point so that 0 stays exact.
 */
export function quantizeBlock(values: Float32Array, bits: Bits, symmetric: boolean, roundScale: (x: number) => number): BlockCodes {
  const levels = (1 << bits) - 1;
  const mid = 1 << (bits - 1);
  const codes = new Uint8Array(values.length);
  let min = 0;
  let max = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v < min) min = v;
    if (v > max) max = v;
  }
  let scale: number;
  let zeroPoint: number;
  if (symmetric) {
    const extreme = -min > max ? min : max;
    scale = roundScale(extreme / -mid);
    zeroPoint = mid;
  } else {
    scale = roundScale((max - min) / levels);
    zeroPoint = scale === 0 ? mid : clamp(Math.round(-min / scale), 0, levels);
  }
  if (scale === 0 || !Number.isFinite(scale)) {
    // An all-zero block (or one that overflows the scale type): every code is the zero point.
    codes.fill(zeroPoint);
    return { codes, scale: scale === 0 ? 0 : scale, zeroPoint };
  }
  const inverse = 1 / scale;
  for (let i = 0; i < values.length; i++) codes[i] = clamp(Math.round(values[i] * inverse) + zeroPoint, 0, levels);
  return { codes, scale, zeroPoint };
}

/** Packs one block's codes into its blob: 8-bit as is, 4-bit two per byte, low nibble first. */
export function packCodes(codes: Uint8Array, bits: Bits, out: Uint8Array, offset: number): void {
  if (bits === 8) {
    out.set(codes, offset);
    return;
  }
  for (let i = 0; i < codes.length; i += 2) out[offset + (i >> 1)] = (codes[i] & 0x0f) | ((codes[i + 1] & 0x0f) << 4);
}

/** The inverse of packCodes: `count` codes from `offset`. */
export function unpackCodes(blob: Uint8Array, bits: Bits, offset: number, count: number): Uint8Array {
  const codes = new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    codes[i] = bits === 8 ? blob[offset + i] : (blob[offset + (i >> 1)] >> ((i & 1) * 4)) & 0x0f;
  }
  return codes;
}

/**
 * Quantizes a whole weight matrix, given as MatMul's B ([K][N], "KN") or as
 * the [N][K] initializer behind a Transpose ("NK", which is already
 * MatMulNBits' orientation).
 */
export function quantizeMatrix(
  weight: Float32Array,
  k: number,
  n: number,
  layout: WeightLayout,
  format: BlockFormat,
  roundScale: (x: number) => number = Math.fround,
): QuantizedMatrix {
  const { bits, blockSize, symmetric } = format;
  if (weight.length !== k * n) throw new Error(`weight has ${weight.length} elements, expected ${k} x ${n}`);
  if (blockSize % 2 !== 0) throw new Error(`block size ${blockSize} must be even`);
  const kBlocks = kBlocksOf(k, blockSize);
  const blobSize = (blockSize * bits) / 8;
  const zpRow = zeroPointRowBytes(kBlocks, bits);
  const packed = new Uint8Array(n * kBlocks * blobSize);
  const scales = new Float32Array(n * kBlocks);
  const zeroPoints = symmetric ? null : new Uint8Array(n * zpRow);
  const block = new Float32Array(blockSize);
  for (let col = 0; col < n; col++) {
    for (let b = 0; b < kBlocks; b++) {
      const start = b * blockSize;
      const end = Math.min(start + blockSize, k);
      block.fill(0); // the padding past K quantizes to exact zeros
      if (layout === "KN") {
        for (let r = start; r < end; r++) block[r - start] = weight[r * n + col];
      } else {
        block.set(weight.subarray(col * k + start, col * k + end));
      }
      const q = quantizeBlock(block, bits, symmetric, roundScale);
      packCodes(q.codes, bits, packed, (col * kBlocks + b) * blobSize);
      scales[col * kBlocks + b] = q.scale;
      if (zeroPoints) {
        if (bits === 8) zeroPoints[col * zpRow + b] = q.zeroPoint;
        else zeroPoints[col * zpRow + (b >> 1)] |= q.zeroPoint << ((b & 1) * 4);
      }
    }
  }
  return { k, n, kBlocks, blobSize, packed, scales, zeroPoints };
}

/** The zero point of block `b` of column `col`, as ORT reads it (implied 2^(bits-1) when symmetric). */
export function zeroPointOf(q: QuantizedMatrix, bits: Bits, col: number, b: number): number {
  if (!q.zeroPoints) return 1 << (bits - 1);
  const row = zeroPointRowBytes(q.kBlocks, bits);
  return bits === 8 ? q.zeroPoints[col * row + b] : (q.zeroPoints[col * row + (b >> 1)] >> ((b & 1) * 4)) & 0x0f;
}

/** Back to MatMul's B layout, [K][N]: what MatMulNBits multiplies by. */
export function dequantizeMatrix(q: QuantizedMatrix, format: BlockFormat): Float32Array {
  const { bits, blockSize } = format;
  const out = new Float32Array(q.k * q.n);
  for (let col = 0; col < q.n; col++) {
    for (let b = 0; b < q.kBlocks; b++) {
      const codes = unpackCodes(q.packed, bits, (col * q.kBlocks + b) * q.blobSize, blockSize);
      const scale = q.scales[col * q.kBlocks + b];
      const zp = zeroPointOf(q, bits, col, b);
      for (let i = 0; i < blockSize; i++) {
        const r = b * blockSize + i;
        if (r < q.k) out[r * q.n + col] = (codes[i] - zp) * scale;
      }
    }
  }
  return out;
}

function clamp(x: number, lo: number, hi: number): number {
  return x < lo ? lo : x > hi ? hi : x;
}
