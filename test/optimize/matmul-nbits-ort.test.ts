/**
 * The layout check against the real kernel: a hand-built graph with one
 * com.microsoft.MatMulNBits, fed our packed weights, scales and zero points,
 * must compute A x dequantize(W) in onnxruntime-node (to float rounding at
 * accuracy_level 0), and so reproduce the float MatMul within the
 * quantization error. K values that are not a multiple of the block size
 * check the zero padding of the last block.
 */
import { describe, expect, it } from "vitest";
import { dequantizeMatrix, quantizeMatrix, type Bits } from "../../src/optimize/block-quantizer.ts";
import { matMulNBitsModel, matmulRef, maxAbsDiff, randomMatrix, runY } from "./support/onnx-builders.ts";

const M = 3;
const N = 24;

/** |A x (W - dequant(W))| bound: per output, sum over K of |a| * (its block's step). */
function quantizationBound(a: Float32Array, scales: Float32Array, k: number, kBlocks: number): number {
  let worst = 0;
  for (let i = 0; i < M; i++) {
    for (let c = 0; c < N; c++) {
      let s = 0;
      for (let r = 0; r < k; r++) s += Math.abs(a[i * k + r]) * Math.abs(scales[c * kBlocks + Math.floor(r / 32)]);
      worst = Math.max(worst, s);
    }
  }
  return worst;
}

describe("MatMulNBits in onnxruntime-node reads our layout", () => {
  for (const k of [64, 48, 16, 100]) {
    for (const bits of [4, 8] as Bits[]) {
      for (const symmetric of [true, false]) {
        it(`K=${k}, ${bits}-bit, ${symmetric ? "symmetric" : "zero points"}`, async () => {
          const format = { bits, blockSize: 32, symmetric };
          const w = randomMatrix(k, N, 100 + k);
          const a = randomMatrix(M, k, 200 + k);
          const q = quantizeMatrix(w, k, N, "KN", format);
          const exact = matmulRef(a, dequantizeMatrix(q, format), M, k, N);
          const float = matmulRef(a, w, M, k, N);

          // Float compute: only float rounding separates ORT from A x dequant(W).
          const y0 = await runY(matMulNBitsModel(q, bits, 32, 0), a, M, k);
          expect(maxAbsDiff(y0, exact)).toBeLessThan(1e-4);
          expect(maxAbsDiff(y0, float)).toBeLessThanOrEqual(quantizationBound(a, q.scales, k, q.kBlocks));

          // int8 compute (what the optimizer emits): A is also quantized, to 8 bits per block.
          const y4 = await runY(matMulNBitsModel(q, bits, 32, 4), a, M, k);
          expect(maxAbsDiff(y4, exact)).toBeLessThan(0.01 * Math.sqrt(k));
        });
      }
    }
  }
});
