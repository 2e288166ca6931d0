/**
 * Small builders for a run's input tensors and readers of its logits,
 * shared by the runner's prefill and decode paths.
 */
import * as ort from "onnxruntime-node";
import { float16ToFloat32 } from "../generation/float16.ts";
import type { IdsDtype } from "./io-spec.ts";

export function rowLogits(logits: ort.Tensor, vocab: number, rows: number): Float32Array[] {
  const seq = logits.dims[1];
  return Array.from({ length: rows }, (_, r) => positionLogits(logits, vocab, r * seq + seq - 1));
}

export function lastPositionLogits(logits: ort.Tensor, vocab: number): Float32Array {
  return positionLogits(logits, vocab, logits.dims[1] - 1);
}

/**
 * The logits at flat position `index` (row * seq + position) as float32.
 * A view, not a copy, for float32 models: the run's output is ours alone
 * and each row's slice is disjoint, so processors may modify it in place.
 */
export function positionLogits(logits: ort.Tensor, vocab: number, index: number): Float32Array {
  const start = index * vocab;
  if (logits.type === "float16") return float16ToFloat32((logits.data as Uint16Array).subarray(start, start + vocab));
  return (logits.data as Float32Array).subarray(start, start + vocab);
}

export function idsTensor(dtype: IdsDtype, values: ArrayLike<number>, dims: number[]): ort.Tensor {
  if (dtype === "int32") return new ort.Tensor("int32", Int32Array.from(values), dims);
  const data = new BigInt64Array(values.length);
  for (let i = 0; i < values.length; i++) data[i] = BigInt(values[i]);
  return new ort.Tensor("int64", data, dims);
}

/** A mask buffer of `length` zeros with its first `count` set to one; filled without per-element BigInt conversion. */
export function ones(dtype: IdsDtype, length: number, count: number): Int32Array | BigInt64Array {
  const mask = dtype === "int32" ? new Int32Array(length) : new BigInt64Array(length);
  fillOnes(mask, 0, count);
  return mask;
}

export function fillOnes(mask: Int32Array | BigInt64Array, start: number, end: number): void {
  if (mask instanceof BigInt64Array) mask.fill(1n, start, end);
  else mask.fill(1, start, end);
}

export function range(start: number, count: number): Int32Array {
  const out = new Int32Array(count);
  for (let i = 0; i < count; i++) out[i] = start + i;
  return out;
}
