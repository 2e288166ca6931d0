/**
 * Shapes and copies of KV tensors. A KV tensor is [lead..., batch, heads,
 * length, headDim] where lead is [] for separate key/value tensors and [2]
 * for the stacked layout (key and value in one tensor). Rows are copied in
 * contiguous blocks of length x headDim.
 */
import * as ort from "onnxruntime-node";
import type { IoSpec } from "./io-spec.ts";

export type KvData = Float32Array | Uint16Array;

export interface KvGeometry {
  /** 2 for stacked key/value, else 1. */
  lead: number;
  heads: number;
  headDim: number;
  dtype: "float32" | "float16";
}

export function kvGeometry(io: IoSpec): KvGeometry {
  return { lead: io.kv.layout === "stacked" ? 2 : 1, heads: io.kv.heads, headDim: io.kv.headDim, dtype: io.kv.dtype };
}

export function kvDims(g: KvGeometry, batch: number, length: number): number[] {
  const dims = [batch, g.heads, length, g.headDim];
  return g.lead === 2 ? [2, ...dims] : dims;
}

export function allocKv(g: KvGeometry, batch: number, length: number): ort.Tensor {
  const size = g.lead * batch * g.heads * length * g.headDim;
  const dims = kvDims(g, batch, length);
  return g.dtype === "float16" ? new ort.Tensor("float16", new Uint16Array(size), dims) : new ort.Tensor("float32", new Float32Array(size), dims);
}

/** The sequence length of a KV tensor (its second-to-last dim). */
export function kvLength(t: ort.Tensor): number {
  return t.dims[t.dims.length - 2];
}

export function kvBatch(t: ort.Tensor): number {
  return t.dims[t.dims.length - 4];
}

/**
 * Copies positions [0, length) of row `srcRow` of `src` into row `dstRow`
 * of `dst` (positions [0, length)). Both tensors share heads and headDim.
 */
export function copyRow(g: KvGeometry, src: ort.Tensor, srcRow: number, dst: ort.Tensor, dstRow: number, length: number): void {
  const s = src.data as KvData;
  const d = dst.data as KvData;
  const srcBatch = kvBatch(src);
  const dstBatch = kvBatch(dst);
  const srcLen = kvLength(src);
  const dstLen = kvLength(dst);
  const block = length * g.headDim;
  for (let l = 0; l < g.lead; l++) {
    for (let h = 0; h < g.heads; h++) {
      const from = (((l * srcBatch + srcRow) * g.heads + h) * srcLen) * g.headDim;
      const to = (((l * dstBatch + dstRow) * g.heads + h) * dstLen) * g.headDim;
      d.set(s.subarray(from, from + block), to);
    }
  }
}

/** Moves one position of a row within a tensor: used to keep rows left-aligned. */
export function movePosition(g: KvGeometry, t: ort.Tensor, row: number, from: number, to: number): void {
  const data = t.data as KvData;
  const batch = kvBatch(t);
  const len = kvLength(t);
  for (let l = 0; l < g.lead; l++) {
    for (let h = 0; h < g.heads; h++) {
      const base = ((l * batch + row) * g.heads + h) * len;
      data.copyWithin((base + to) * g.headDim, (base + from) * g.headDim, (base + from + 1) * g.headDim);
    }
  }
}
