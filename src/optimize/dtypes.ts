/**
 * The outputs the optimizer makes, under transformers.js' file names,
 * which the server's --dtype also reads: q8 -> <stem>_quantized.onnx,
 * q4 -> <stem>_q4.onnx (onnx/model.onnx -> onnx/model_q4.onnx), and the
 * MatMulNBits format each uses, with the measurements behind it.
 *
 * --fuse writes the same q8/q4 names (a fused q4 file is what --dtype q4
 * serves), plus one fp32 file, which transformers.js has no name for and
 * the server serves as --dtype fp32-fused: fp32 -> <stem>_fused.onnx.
 */
import { basename, dirname, join } from "node:path";
import type { QuantizeOptions } from "./quantize-matmuls.ts";

export type OptimizeDtype = "q4" | "q8";
export const OPTIMIZE_DTYPES: readonly OptimizeDtype[] = ["q4", "q8"];
/** What --fuse takes: the quantized formats, or fp32 (fused, not quantized). */
export type FuseDtype = OptimizeDtype | "fp32";
export const FUSE_DTYPES: readonly FuseDtype[] = ["q4", "q8", "fp32"];

const SUFFIX: Record<FuseDtype, string> = { q4: "_q4", q8: "_quantized", fp32: "_fused" };

/**
 * Block size 32: ORT's int8-compute kernels take 16..256; 32 keeps the
 * most accuracy per block at a scale cost of 1/8 byte per weight (4-bit).
 *
 * accuracy_level 4 (int8 compute: A is quantized per block to int8 and the
 * dot products run on VNNI) for both widths. Measured on this AVX512-VNNI
 * CPU, one 576x1536 weight, one row, one thread: float MatMul 77 us;
 * level 4: q8 46 us, q4 38 us; level 0 (float compute): q4 107 us and q8
 * 3,900 us, 50x slower than the float MatMul, so level 0 is never emitted.
 * On the 135M-shape model, level 4 decodes about 1.8-2x (q8) and 2x (q4)
 * faster than fp32 at batch 1.
 *
 * Symmetric or with zero points, measured on tiny-chat's 750 held-out
 * chats (greedy, teacher-forced logits over the 5,385 answer positions):
 * - q8 symmetric: answers identical to fp32 750/750, KL 5.0e-6, max
 *   |diff| 0.34; with zero points: 749/750, KL 5.0e-6, max 0.43. No gain,
 *   and one more input: q8 is symmetric.
 * - q4 symmetric: 747/750 identical, KL 2.35e-4, max |diff| 2.76; with
 *   zero points: 747/750, KL 1.25e-4, max 2.03 (the 135M-shape random
 *   model agrees: KL 1.04e-2 vs 1.15e-2). Zero points cost 1/64 byte per
 *   weight and no measurable speed (a lone 576x1536 MatMulNBits: 43 vs
 *   42 us, within noise), so q4 carries zero points.
 */
export const BLOCK_SIZE = 32;
export const ACCURACY_LEVEL = 4;
export function quantizeOptionsFor(dtype: OptimizeDtype): QuantizeOptions {
  return { bits: dtype === "q4" ? 4 : 8, blockSize: BLOCK_SIZE, symmetric: dtype === "q8", accuracyLevel: ACCURACY_LEVEL };
}

/**
 * Stems the server's --dtype looks for (model-folder.ts): the plain export
 * and Optimum's merged decoder keep theirs; any other name (a genai folder's
 * past.onnx, say) becomes "model", so `--dtype q4` finds model_q4.onnx.
 */
const SERVED_STEMS = ["model", "decoder_model_merged"];

/** onnx/model.onnx -> onnx/model_q4.onnx (q4), onnx/model_quantized.onnx (q8) or onnx/model_fused.onnx (fused fp32), beside the input. */
export function outputPathFor(inputPath: string, dtype: FuseDtype): string {
  const stem = basename(inputPath).replace(/\.onnx$/, "");
  return join(dirname(inputPath), `${SERVED_STEMS.includes(stem) ? stem : "model"}${SUFFIX[dtype]}.onnx`);
}
