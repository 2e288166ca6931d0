/**
 * float32 -> IEEE-754 half bits, rounding to nearest even: the scales of a
 * float16 model must be float16 (MatMulNBits takes them in A's type), and
 * the quantizer rounds each scale to what will be stored before it picks
 * the codes, so the codes fit the scale that ORT will actually use.
 */
import { float16ToFloat32 } from "../generation/float16.ts";

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

export function floatToHalfBits(value: number): number {
  f32[0] = value;
  const x = u32[0];
  const sign = (x >>> 16) & 0x8000;
  const exponent = (x >>> 23) & 0xff;
  let mantissa = x & 0x7fffff;
  if (exponent === 0xff) return sign | 0x7c00 | (mantissa ? 0x200 : 0); // Inf, NaN
  let e = exponent - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00; // overflow to Inf
  if (e <= 0) {
    // Subnormal half (or zero): shift the implicit 1 in, round to nearest even.
    if (e < -10) return sign;
    mantissa |= 0x800000;
    const shift = 14 - e;
    const half = 1 << (shift - 1);
    const rest = mantissa & ((1 << shift) - 1);
    let m = mantissa >>> shift;
    if (rest > half || (rest === half && (m & 1))) m++;
    return sign | m;
  }
  const rest = mantissa & 0x1fff;
  let bits = (e << 10) | (mantissa >>> 13);
  if (rest > 0x1000 || (rest === 0x1000 && (bits & 1))) bits++; // may carry into the exponent: still correct
  return sign | bits;
}

/** `value` as it reads back after a float16 round trip. */
export function roundToHalf(value: number): number {
  return float16ToFloat32(Uint16Array.of(floatToHalfBits(value)))[0];
}
