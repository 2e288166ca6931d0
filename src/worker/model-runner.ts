/**
 * Owns one ONNX Runtime session and runs forward steps with a per-row KV
 * cache. Feeds are built from the session's own metadata (io-spec.ts), so
 * int32/int64 ids, float16/float32 KV, stacked or separate KV tensors and
 * graphs without position_ids all go through the same code.
 */
import * as ort from "onnxruntime-node";
import type { ModelFolder } from "../model/model-folder.ts";
import type { DecodeBatch } from "./decode-batch.ts";
import { fillOnes, idsTensor, lastPositionLogits, ones, positionLogits, range, rowLogits } from "./feeds.ts";
import { readIoSpec, type IoSpec } from "./io-spec.ts";
import { allocKv, kvGeometry } from "./kv-geometry.ts";
import { openSession, type RunnerOptions } from "./session-options.ts";

/** One row's cache: the past tensors fed to the next step, and how many positions they hold. */
export interface RowKv {
  past: Record<string, ort.Tensor>;
  length: number;
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
    const { session, threads, spinning } = await openSession(folder, options);
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
    kv.past = this.presentAsPast(out);
    kv.length = total;
    return lastPositionLogits(out[this.io.logits.name], this.io.logits.vocabSize);
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
      for (let i = 0; i < prompt.length; i++) ids[r * width + i] = prompt[i];
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
    const past = this.presentAsPast(out);
    const logits = out[this.io.logits.name];
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
    const fetches = batch.fetches(this.io.logits.name);
    const out = fetches ? await this.session.run(feeds, fetches) : await this.session.run(feeds);
    if (fetches) batch.advanceNew(out);
    else batch.advance(this.presentAsPast(out));
    return rowLogits(out[this.io.logits.name], this.io.logits.vocabSize, rows);
  }

  /**
   * The KV hand-over: a run's present tensors, keyed by the past inputs they
   * feed next. No copy: the run's outputs are ours alone.
   */
  private presentAsPast(out: ort.InferenceSession.ReturnType): Record<string, ort.Tensor> {
    const past: Record<string, ort.Tensor> = {};
    for (const layer of this.io.kv.layers) {
      past[layer.pastKey] = out[layer.presentKey];
      if (layer.pastValue && layer.presentValue) past[layer.pastValue] = out[layer.presentValue];
    }
    return past;
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}
