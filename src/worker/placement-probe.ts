/**
 * Measures, once at load, how the model's attention writes a shorter row's
 * new KV position in a padded batch (see decode-batch.ts), and proves that
 * batched decoding reproduces batch-1 decoding on this model. A model that
 * fails the proof is served one row per run: slower, never wrong.
 */
import type * as ort from "onnxruntime-node";
import { DecodeBatch, type NewPositionPlacement } from "./decode-batch.ts";
import { kvGeometry, kvLength, type KvData } from "./kv-geometry.ts";
import type { ModelRunner, RowKv } from "./model-runner.ts";

export interface ProbeResult {
  placement: NewPositionPlacement | null;
  /** Largest logit difference between batched and batch-1 decoding, for the log. */
  maxLogitDiff: number;
  reason: string;
}

export async function probePlacement(runner: ModelRunner): Promise<ProbeResult> {
  const vocab = runner.io.logits.vocabSize;
  const id = (n: number): number => n % vocab;
  const long = runner.emptyKv();
  const short = runner.emptyKv();
  await runner.forward(long, [id(1), id(2), id(3)]);
  await runner.forward(short, [id(1)]);

  // Batch-1 references for two decode steps of each row.
  const reference = async (kv: RowKv): Promise<Float32Array[]> => {
    const copy: RowKv = { past: { ...kv.past }, length: kv.length };
    return [await runner.forward(copy, [id(5)]), await runner.forward(copy, [id(6)])];
  };
  const refLong = await reference(long);
  const refShort = await reference(short);

  const geometry = kvGeometry(runner.io);
  const build = (placement: NewPositionPlacement): DecodeBatch => {
    const batch = DecodeBatch.for(runner.io, placement);
    batch.rebuild(() => false, [
      { rowId: 0, past: long.past, sourceRow: 0, length: long.length },
      { rowId: 1, past: short.past, sourceRow: 0, length: short.length },
    ]);
    return batch;
  };
  // "in-place" moves nothing, so after one step the cache is exactly what the model wrote.
  let batch = build("in-place");
  let step1 = await runner.decode(batch, [id(5), id(5)]);
  const firstKv = batch.feeds().past[runner.io.kv.layers[0].pastKey];
  const placement: NewPositionPlacement = shortRowPositionIsPadding(firstKv, geometry.heads, geometry.headDim) ? "appended" : "in-place";
  if (placement === "appended") {
    batch = build("appended");
    step1 = await runner.decode(batch, [id(5), id(5)]);
  }
  const step2 = await runner.decode(batch, [id(6), id(6)]);
  const worst = Math.max(diff(step1[0], refLong[0]), diff(step1[1], refShort[0]), diff(step2[0], refLong[1]), diff(step2[1], refShort[1]));
  const scale = Math.max(maxAbs(refLong[0]), maxAbs(refShort[1]));
  const half = runner.io.kv.dtype === "float16" || runner.io.logits.dtype === "float16";
  const tolerance = (half ? 1e-2 : 1e-3) * scale + 1e-6;
  return worst <= tolerance
    ? { placement, maxLogitDiff: worst, reason: `batched decode (${placement}) matches batch 1, max logit diff ${worst.toExponential(2)}` }
    : { placement: null, maxLogitDiff: worst, reason: `batched decode differs from batch 1 by ${worst.toExponential(2)} (tolerance ${tolerance.toExponential(2)})` };
}

/**
 * The load log line's account of the graph and its KV handling, from what
 * the probe measured rather than from op names: in-place writes are what
 * fused attention (GroupQueryAttention: past and present share one
 * left-aligned buffer layout, positions from seqlens_k) does; appended
 * writes are a plain attention graph's Concat of past and new.
 */
export function describeKvHandling(placement: NewPositionPlacement | null, newPositionOutputs: boolean): string {
  switch (placement) {
    case "in-place":
      return newPositionOutputs
        ? "fused attention (GroupQueryAttention): each row's new KV position is written right after its own length; a decode step returns only the new positions (new_key_values), kept in the worker's own cache buffers"
        : "fused attention (GroupQueryAttention): each row's new KV position is written right after its own length; present becomes the next past as is";
    case "appended":
      return "plain attention: the new KV position is appended at the batch width; present becomes the next past, shorter rows' new position moved back";
    case null:
      return "one row per run: batched decode did not match batch 1 on this model";
  }
}

/** After one step of [long(3), short(1)], is the short row's position 1 still the zero padding? */
function shortRowPositionIsPadding(present: ort.Tensor, heads: number, headDim: number): boolean {
  const data = present.data as KvData;
  const len = kvLength(present);
  const batch = present.dims[present.dims.length - 4];
  const lead = present.dims.length === 5 ? 2 : 1;
  for (let l = 0; l < lead; l++) {
    for (let h = 0; h < heads; h++) {
      const base = (((l * batch + 1) * heads + h) * len + 1) * headDim;
      for (let d = 0; d < headDim; d++) if (data[base + d] !== 0) return false;
    }
  }
  return true;
}

function diff(a: Float32Array, b: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

function maxAbs(a: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
}

/**
 * Can the model continue a cached sequence with several tokens at once?
 * Some exports (onnxruntime-genai's MultiHeadAttention Llama) only accept
 * one new token after a non-empty past; those get whole-prompt prefill.
 */
export async function probeChunkedPrefill(runner: ModelRunner): Promise<boolean> {
  const vocab = runner.io.logits.vocabSize;
  const ids = [1, 2, 3].map((n) => n % vocab);
  const whole = await runner.forward(runner.emptyKv(), ids);
  const kv = runner.emptyKv();
  await runner.forward(kv, ids.slice(0, 1));
  let chunked: Float32Array;
  try {
    chunked = await runner.forward(kv, ids.slice(1));
  } catch {
    return false;
  }
  const half = runner.io.logits.dtype === "float16" || runner.io.kv.dtype === "float16";
  return diff(whole, chunked) <= (half ? 1e-2 : 1e-3) * maxAbs(whole) + 1e-6;
}
