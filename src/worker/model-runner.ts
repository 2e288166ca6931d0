/**
 * Owns one ONNX Runtime session and runs forward steps with a per-row KV
 * cache. Feeds are built from the session's own metadata (io-spec.ts), so
 * int32/int64 ids, float16/float32 KV, stacked or separate KV tensors and
 * graphs without position_ids all go through the same code.
 */
import { readdirSync, statSync } from "node:fs";
import { availableParallelism } from "node:os";
import { basename, dirname, join } from "node:path";
import * as ort from "onnxruntime-node";
import { float16ToFloat32 } from "../generation/float16.ts";
import type { ModelFolder } from "../model/model-folder.ts";
import { ModelLoadError } from "../model/model-load-error.ts";
import { readIoSpec, type IdsDtype, type IoSpec } from "./io-spec.ts";
import type { DecodeBatch } from "./decode-batch.ts";
import { allocKv, kvGeometry } from "./kv-geometry.ts";

/** One row's cache: the past tensors fed to the next step, and how many positions they hold. */
export interface RowKv {
  past: Record<string, ort.Tensor>;
  length: number;
}

export interface RunnerOptions {
  device: "cpu" | "cuda";
  threads: number | "auto";
  /** Cores for this session when `threads` is "auto" and the model is not small; default: all. */
  cores?: number;
  spinning?: "auto" | "on" | "off";
}

/**
 * Spinning pool threads make each parallel operator start sooner, but burn
 * the cores between runs, starving the worker's own JavaScript and the HTTP
 * thread that must run between steps. Measured on 2 cores: a 2.5M-parameter
 * model (steps of ~1 ms) streamed 0.76x the raw loop with spinning off and
 * 0.47x with it on; a 135M-parameter one (30 layers, steps of ~25 ms) ran
 * 0.89x off and 0.99x on. "auto" spins for models of 64 MB and more.
 */
const LARGE_MODEL_BYTES = 64 * 1024 * 1024;

function spinningFor(options: RunnerOptions, bytes: number): boolean {
  if (options.spinning === "on") return true;
  if (options.spinning === "off") return false;
  return bytes >= LARGE_MODEL_BYTES;
}

/**
 * "auto" gives a small model one intra-op thread. Its operators are too
 * small to split well (measured on 2 cores with the 2.5M-parameter default
 * model, 16 rows: 3.2-3.6 ms per step with 1 thread, 3.4 ms with 2), and the
 * free core then serves HTTP and the worker's JavaScript without stealing
 * time from the run. Large models get every core of the worker.
 */
function threadsFor(options: RunnerOptions, bytes: number): number {
  if (options.threads !== "auto") return options.threads;
  return bytes >= LARGE_MODEL_BYTES ? Math.max(1, options.cores ?? availableParallelism()) : 1;
}

/** The graph plus its external data files, which hold the weights of large models. */
function modelBytes(onnxPath: string): number {
  const dir = dirname(onnxPath);
  const stem = basename(onnxPath);
  return readdirSync(dir)
    .filter((f) => f === stem || f.startsWith(`${stem}.`) || f.startsWith(`${stem}_`))
    .reduce((sum, f) => sum + statSync(join(dir, f)).size, 0);
}

export class ModelRunner {
  private constructor(
    private readonly session: ort.InferenceSession,
    readonly io: IoSpec,
    readonly executionProvider: string,
    /** Intra-op threads and spinning as resolved for this model. */
    readonly threads: number,
    readonly spinning: boolean,
  ) {}

  static async create(folder: ModelFolder, options: RunnerOptions): Promise<ModelRunner> {
    const bytes = modelBytes(folder.onnxPath);
    const threads = threadsFor(options, bytes);
    const spinning = spinningFor(options, bytes);
    const sessionOptions: ort.InferenceSession.SessionOptions = {
      executionProviders: [options.device],
      intraOpNumThreads: threads,
      interOpNumThreads: 1,
      graphOptimizationLevel: "all",
      extra: spinning ? {} : { session: { intra_op: { allow_spinning: "0" }, inter_op: { allow_spinning: "0" } } },
    };
    let session: ort.InferenceSession;
    try {
      session = await ort.InferenceSession.create(folder.onnxPath, sessionOptions);
    } catch (error) {
      const reason = (error as Error).message;
      if (options.device === "cuda") {
        throw new ModelLoadError(
          folder.onnxPath,
          `cannot start the CUDA execution provider (${reason}). onnxruntime-node needs its CUDA 12 binaries ` +
            "(install it with ONNXRUNTIME_NODE_INSTALL=cuda12) and an NVIDIA driver; or run with --device cpu",
        );
      }
      throw new ModelLoadError(folder.onnxPath, `ONNX Runtime cannot load the model (${reason})`);
    }
    return new ModelRunner(session, readIoSpec(session, folder), options.device, threads, spinning);
  }

  emptyKv(): RowKv {
    const { layout, dtype, heads, headDim, layers } = this.io.kv;
    const dims = layout === "stacked" ? [2, 1, heads, 0, headDim] : [1, heads, 0, headDim];
    const empty = (): ort.Tensor =>
      dtype === "float16" ? new ort.Tensor("float16", new Uint16Array(0), dims) : new ort.Tensor("float32", new Float32Array(0), dims);
    const past: Record<string, ort.Tensor> = {};
    for (const layer of layers) {
      past[layer.pastKey] = empty();
      if (layer.pastValue) past[layer.pastValue] = empty();
    }
    return { past, length: 0 };
  }

  /**
   * Runs `ids` after the row's cached positions, advances the cache, and
   * returns the logits of the last position as float32 (a fresh array the
   * caller may modify).
   */
  async forward(kv: RowKv, ids: ArrayLike<number>): Promise<Float32Array> {
    const n = ids.length;
    const total = kv.length + n;
    const feeds: Record<string, ort.Tensor> = { ...kv.past };
    feeds[this.io.inputIds.name] = idsTensor(this.io.inputIds.dtype, ids, [1, n]);
    if (this.io.attentionMask) {
      feeds[this.io.attentionMask.name] = new ort.Tensor(this.io.attentionMask.dtype, ones(this.io.attentionMask.dtype, total, total), [1, total]);
    }
    if (this.io.positionIds) {
      feeds[this.io.positionIds.name] = idsTensor(this.io.positionIds.dtype, range(kv.length, n), [1, n]);
    }
    if (this.io.useCacheBranch) {
      feeds[this.io.useCacheBranch] = new ort.Tensor("bool", Uint8Array.of(kv.length > 0 ? 1 : 0), [1]);
    }
    const out = await this.session.run(feeds);
    for (const layer of this.io.kv.layers) {
      kv.past[layer.pastKey] = out[layer.presentKey]!;
      if (layer.pastValue && layer.presentValue) kv.past[layer.pastValue] = out[layer.presentValue]!;
    }
    kv.length = total;
    return lastPositionLogits(out[this.io.logits.name]!, this.io.logits.vocabSize);
  }

  /**
   * Prefills several prompts in one run, right-padded (pads at the end,
   * mask 0): every row's real tokens sit at [0, length) of the returned
   * cache, which is exact for plain attention and for GroupQueryAttention
   * alike. Returns each row's last-position logits and the batch cache.
   */
  async prefillBatch(prompts: ArrayLike<number>[]): Promise<{ logits: Float32Array[]; past: Record<string, ort.Tensor> }> {
    const rows = prompts.length;
    const width = Math.max(...prompts.map((p) => p.length));
    const ids = new Int32Array(rows * width);
    const positions = new Int32Array(rows * width);
    const mask = ones(this.io.attentionMask!.dtype, rows * width, 0);
    prompts.forEach((prompt, r) => {
      for (let i = 0; i < prompt.length; i++) ids[r * width + i] = prompt[i]!;
      for (let i = 0; i < width; i++) positions[r * width + i] = i;
      fillOnes(mask, r * width, r * width + prompt.length);
    });
    const feeds: Record<string, ort.Tensor> = {};
    const geometry = kvGeometry(this.io);
    for (const layer of this.io.kv.layers) {
      feeds[layer.pastKey] = allocKv(geometry, rows, 0);
      if (layer.pastValue) feeds[layer.pastValue] = allocKv(geometry, rows, 0);
    }
    feeds[this.io.inputIds.name] = idsTensor(this.io.inputIds.dtype, ids, [rows, width]);
    feeds[this.io.attentionMask!.name] = new ort.Tensor(this.io.attentionMask!.dtype, mask, [rows, width]);
    if (this.io.positionIds) feeds[this.io.positionIds.name] = idsTensor(this.io.positionIds.dtype, positions, [rows, width]);
    if (this.io.useCacheBranch) feeds[this.io.useCacheBranch] = new ort.Tensor("bool", Uint8Array.of(0), [1]);
    const out = await this.session.run(feeds);
    const past: Record<string, ort.Tensor> = {};
    for (const layer of this.io.kv.layers) {
      past[layer.pastKey] = out[layer.presentKey]!;
      if (layer.pastValue && layer.presentValue) past[layer.pastValue] = out[layer.presentValue]!;
    }
    const logits = out[this.io.logits.name]!;
    const vocab = this.io.logits.vocabSize;
    return { logits: prompts.map((p, r) => positionLogits(logits, vocab, r * width + p.length - 1)), past };
  }

  /**
   * One decode step over a batch: every row gets its last token; returns
   * each row's logits (float32, fresh arrays) and advances the batch cache.
   */
  async decode(batch: DecodeBatch, tokens: ArrayLike<number>): Promise<Float32Array[]> {
    const { past, lengths, width } = batch.feeds();
    const rows = lengths.length;
    const feeds: Record<string, ort.Tensor> = { ...past };
    feeds[this.io.inputIds.name] = idsTensor(this.io.inputIds.dtype, tokens, [rows, 1]);
    if (this.io.attentionMask) {
      // Each row: its own positions, zero padding up to the width, then the new token.
      const mask = ones(this.io.attentionMask.dtype, rows * (width + 1), 0);
      lengths.forEach((length, r) => {
        const start = r * (width + 1);
        fillOnes(mask, start, start + length);
        fillOnes(mask, start + width, start + width + 1);
      });
      feeds[this.io.attentionMask.name] = new ort.Tensor(this.io.attentionMask.dtype, mask, [rows, width + 1]);
    }
    if (this.io.positionIds) feeds[this.io.positionIds.name] = idsTensor(this.io.positionIds.dtype, lengths, [rows, 1]);
    if (this.io.useCacheBranch) feeds[this.io.useCacheBranch] = new ort.Tensor("bool", Uint8Array.of(1), [1]);
    const out = await this.session.run(feeds);
    const present: Record<string, ort.Tensor> = {};
    for (const layer of this.io.kv.layers) {
      present[layer.pastKey] = out[layer.presentKey]!;
      if (layer.pastValue && layer.presentValue) present[layer.pastValue] = out[layer.presentValue]!;
    }
    batch.advance(present);
    return rowLogits(out[this.io.logits.name]!, this.io.logits.vocabSize, rows);
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}

function rowLogits(logits: ort.Tensor, vocab: number, rows: number): Float32Array[] {
  const seq = logits.dims[1]!;
  return Array.from({ length: rows }, (_, r) => positionLogits(logits, vocab, r * seq + seq - 1));
}

function lastPositionLogits(logits: ort.Tensor, vocab: number): Float32Array {
  return positionLogits(logits, vocab, logits.dims[1]! - 1);
}

/**
 * The logits at flat position `index` (row * seq + position) as float32.
 * A view, not a copy, for float32 models: the run's output is ours alone
 * and each row's slice is disjoint, so processors may modify it in place.
 */
function positionLogits(logits: ort.Tensor, vocab: number, index: number): Float32Array {
  const start = index * vocab;
  if (logits.type === "float16") return float16ToFloat32((logits.data as Uint16Array).subarray(start, start + vocab));
  return (logits.data as Float32Array).subarray(start, start + vocab);
}

function idsTensor(dtype: IdsDtype, values: ArrayLike<number>, dims: number[]): ort.Tensor {
  if (dtype === "int32") return new ort.Tensor("int32", Int32Array.from(values), dims);
  const data = new BigInt64Array(values.length);
  for (let i = 0; i < values.length; i++) data[i] = BigInt(values[i]!);
  return new ort.Tensor("int64", data, dims);
}

/** A mask buffer of `length` zeros with its first `count` set to one; filled without per-element BigInt conversion. */
function ones(dtype: IdsDtype, length: number, count: number): Int32Array | BigInt64Array {
  const mask = dtype === "int32" ? new Int32Array(length) : new BigInt64Array(length);
  fillOnes(mask, 0, count);
  return mask;
}

function fillOnes(mask: Int32Array | BigInt64Array, start: number, end: number): void {
  if (mask instanceof BigInt64Array) mask.fill(1n, start, end);
  else mask.fill(1, start, end);
}

function range(start: number, count: number): Int32Array {
  const out = new Int32Array(count);
  for (let i = 0; i < count; i++) out[i] = start + i;
  return out;
}
