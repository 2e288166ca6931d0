/**
 * The raw baseline's own ONNX Runtime session and feed builders, written
 * apart from the server's worker code: input names come from
 * session.inputNames, ids are int64 (or int32 where the graph says so), the
 * KV cache is past_key_values.N.key/value in and present.N.key/value out,
 * float32, with a zero-length past at prefill.
 */
import * as ort from "onnxruntime-node";
import type { BenchModel } from "./models.ts";

type IdsType = "int32" | "int64";

interface KvName {
  past: string;
  present: string;
}

export class RawSession {
  private constructor(
    private readonly session: ort.InferenceSession,
    private readonly idsTypes: Map<string, IdsType>,
    private readonly kv: KvName[],
    private readonly kvHeads: number,
    private readonly headDim: number,
  ) {}

  /** Session options as the server's worker uses them, so the comparison is like for like. */
  static async open(model: BenchModel, threads: number, extra: ort.InferenceSession.SessionOptions = {}): Promise<RawSession> {
    const session = await ort.InferenceSession.create(model.onnxPath, {
      executionProviders: ["cpu"],
      intraOpNumThreads: threads,
      interOpNumThreads: 1,
      graphOptimizationLevel: "all",
      ...extra,
    });
    const meta = new Map(session.inputMetadata.map((m) => [m.name, m]));
    const outMeta = new Map(session.outputMetadata.map((m) => [m.name, m]));
    const idsTypes = new Map<string, IdsType>();
    for (const name of ["input_ids", "attention_mask", "position_ids"]) {
      const m = meta.get(name);
      if (!m) continue;
      if (!m.isTensor || (m.type !== "int64" && m.type !== "int32")) throw new Error(`raw loop: ${name} is not an int64/int32 tensor`);
      idsTypes.set(name, m.type);
    }
    if (!idsTypes.has("input_ids")) throw new Error("raw loop: the graph has no input_ids input");
    const kv: KvName[] = session.inputNames
      .filter((n) => /^past_key_values\.\d+\.(key|value)$/.test(n))
      .map((past) => ({ past, present: past.replace("past_key_values.", "present.") }));
    const unknown = session.inputNames.filter((n) => !idsTypes.has(n) && !kv.some((k) => k.past === n));
    if (kv.length === 0 || unknown.length > 0) {
      throw new Error(`raw loop: needs past_key_values.N.key/value inputs only (unsupported: ${unknown.join(", ") || "no KV inputs"})`);
    }
    const first = meta.get(kv[0].past)!;
    if (!first.isTensor || first.type !== "float32") throw new Error("raw loop: only float32 KV caches are supported");
    const dim = (shape: ReadonlyArray<number | string>, i: number, fallback: number | null): number => {
      const d = shape[i];
      if (typeof d === "number") return d;
      if (fallback === null) throw new Error(`raw loop: KV dim ${i} is symbolic and the config does not give it`);
      return fallback;
    };
    const logits = outMeta.get("logits");
    if (!logits || !logits.isTensor || logits.type !== "float32") throw new Error("raw loop: needs float32 logits");
    return new RawSession(
      session,
      idsTypes,
      kv,
      dim(first.shape, 1, model.numKeyValueHeads),
      dim(first.shape, 3, model.headDim),
    );
  }

  /** Feeds for a step: `ids` is [batch, n] row-major; every row has `past` cached positions. */
  feeds(batch: number, ids: ArrayLike<number>, past: number, cache: Record<string, ort.Tensor> | null): Record<string, ort.Tensor> {
    const n = ids.length / batch;
    const total = past + n;
    const feeds: Record<string, ort.Tensor> = { input_ids: this.ids("input_ids", ids.length, (i) => ids[i], [batch, n]) };
    if (this.idsTypes.has("attention_mask")) {
      feeds.attention_mask = this.ids("attention_mask", batch * total, () => 1, [batch, total]);
    }
    if (this.idsTypes.has("position_ids")) {
      feeds.position_ids = this.ids("position_ids", batch * n, (i) => past + (i % n), [batch, n]);
    }
    for (const { past: name } of this.kv) {
      feeds[name] = cache?.[name] ?? new ort.Tensor("float32", new Float32Array(0), [batch, this.kvHeads, 0, this.headDim]);
    }
    return feeds;
  }

  /** Runs one step; returns the logits tensor and the presents renamed as the next step's past. */
  async run(feeds: Record<string, ort.Tensor>): Promise<{ logits: ort.Tensor; cache: Record<string, ort.Tensor> }> {
    const out = await this.session.run(feeds);
    const cache: Record<string, ort.Tensor> = {};
    for (const { past, present } of this.kv) {
      const t = out[present];
      if (!t) throw new Error(`raw loop: the graph has no ${present} output`);
      cache[past] = t;
    }
    return { logits: out.logits!, cache };
  }

  /** Stops ONNX Runtime's profiler (a session opened with enableProfiling), which writes its JSON file. */
  endProfiling(): void {
    this.session.endProfiling();
  }

  async release(): Promise<void> {
    await this.session.release();
  }

  /** An ids tensor of `count` values, straight into the typed array the graph wants. */
  private ids(name: string, count: number, value: (i: number) => number, dims: number[]): ort.Tensor {
    if (this.idsTypes.get(name) === "int32") {
      const data = new Int32Array(count);
      for (let i = 0; i < count; i++) data[i] = value(i);
      return new ort.Tensor("int32", data, dims);
    }
    const data = new BigInt64Array(count);
    for (let i = 0; i < count; i++) data[i] = BigInt(value(i));
    return new ort.Tensor("int64", data, dims);
  }
}
