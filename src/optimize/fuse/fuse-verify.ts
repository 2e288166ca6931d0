/**
 * The proof a fused graph must pass before it is written: the original and
 * the fused graph run in onnxruntime-node on the same probe inputs, fed the
 * way the server feeds them (worker/model-runner.ts), and every logit and
 * every cached key/value position that a later step can read must agree:
 *
 * 1. prefill, batch 2, right-padded (prompts of 23 and 6 tokens, pads at
 *    the end with mask 0, position_ids 0..22 on both rows): logits and
 *    presents at every real position;
 * 2. two decode steps of that batch, the past in the server's layout (each
 *    row left-aligned, zeros after its length, the new token's mask at the
 *    end): logits, and the row's new key/value wherever the model put it
 *    (a Concat appends it after the padding, GroupQueryAttention writes it
 *    right after the row's length; placement-probe.ts measures the same);
 * 3. a cached continuation with several tokens (3, then 20 more), as the
 *    server's chunked prefill runs it.
 *
 * The positions reach 24 only: a wrong RoPE base close to the right one
 * (10001 for 10000) still passes, which is why the base comes from
 * config.json and is not inferred from the graph.
 *
 * Agreement is relative to scale: max |fused - original| over a tensor, per
 * step, divided by the largest |original| value of that tensor.
 */
import * as ort from "onnxruntime-node";
import { NEW_KV_PREFIX } from "./fused-graph.ts";

export interface ProbeShape {
  vocab: number;
  kvHeads: number;
  headDim: number;
  layers: number;
}

export interface VerifyReport {
  ok: boolean;
  /** Largest relative difference of the logits, and of the presents, over all steps. */
  logits: number;
  presents: number;
  tolerance: number;
  reason: string;
}

/** A file, or an encoded model whose external tensors (if any) live in `dir`. */
export type ModelSource = string | { bytes: Uint8Array; dir: string };

/** Relative tolerance: float32 graphs that compute the same function in another op order agree far closer. */
export const FUSED_TOLERANCE = 1e-4;

interface Runner {
  session: ort.InferenceSession;
  positionIds: boolean;
  /** int32 or int64, per input, as the graph declares them. */
  intTypes: Map<string, "int32" | "int64">;
}

/** One row's cache: per KV tensor name, [kvHeads][length][headDim] of its real positions. */
type RowCache = Map<string, Float32Array>;

export async function verifyFused(original: ModelSource, fused: ModelSource, shape: ProbeShape, tolerance = FUSED_TOLERANCE): Promise<VerifyReport> {
  const result: VerifyReport = { ok: false, logits: 0, presents: 0, tolerance, reason: "" };
  let a: Runner | null = null;
  let b: Runner | null = null;
  try {
    a = await open(original);
    try {
      b = await open(fused);
    } catch (error) {
      result.reason = `ONNX Runtime cannot load the fused graph (${(error as Error).message})`;
      return result;
    }
    await new Probe(a, b, shape, result).run();
  } catch (error) {
    result.reason = `a probe run failed (${(error as Error).message})`;
    return result;
  } finally {
    await a?.session.release();
    await b?.session.release();
  }
  result.ok = result.logits <= tolerance && result.presents <= tolerance;
  result.reason = `logits within ${result.logits.toExponential(2)}, presents within ${result.presents.toExponential(2)} (relative; tolerance ${tolerance.toExponential(0)})`;
  return result;
}

async function open(source: ModelSource): Promise<Runner> {
  // Severity 4 (fatal only): a failing run is reported as the reason, not as an ORT log line.
  const options: ort.InferenceSession.SessionOptions = { graphOptimizationLevel: "all", intraOpNumThreads: 1, interOpNumThreads: 1, logSeverityLevel: 4 };
  const session =
    typeof source === "string"
      ? await ort.InferenceSession.create(source, options)
      : // A model read from memory finds its external data only through this folder.
        await ort.InferenceSession.create(source.bytes, { ...options, extra: { session: { model_external_initializers_file_folder_path: source.dir } } });
  const intTypes = new Map<string, "int32" | "int64">();
  for (const m of session.inputMetadata) if (m.isTensor && (m.type === "int32" || m.type === "int64")) intTypes.set(m.name, m.type);
  return { session, positionIds: session.inputNames.includes("position_ids"), intTypes };
}

class Probe {
  private readonly names: Array<{ past: string; present: string }> = [];

  constructor(
    private readonly a: Runner,
    private readonly b: Runner,
    private readonly shape: ProbeShape,
    private readonly result: VerifyReport,
  ) {
    for (let i = 0; i < shape.layers; i++) {
      for (const kind of ["key", "value"]) this.names.push({ past: `past_key_values.${i}.${kind}`, present: `present.${i}.${kind}` });
    }
  }

  async run(): Promise<void> {
    const ids = (seed: number, n: number): number[] => Array.from({ length: n }, (_, i) => (seed * 7919 + i * 104729 + 13) % this.shape.vocab);
    const prompts = [ids(1, 23), ids(2, 6)];
    // Step 1: batch prefill, right-padded.
    const caches = await this.both((r) => this.step(r, prompts, prompts.map(() => new Map()), [0, 0], 0));
    // Step 2: two batched decode steps over the padded past.
    let rows = caches;
    let lengths = prompts.map((p) => p.length);
    for (const token of [ids(3, 2), ids(4, 2)]) {
      const width = Math.max(...lengths);
      const current = lengths;
      rows = await this.both((r, which) => this.step(r, token.map((t) => [t]), rows[which], current, width));
      lengths = lengths.map((l) => l + 1);
    }
    // Step 3: a cached continuation of several tokens, batch 1.
    const head = await this.both((r) => this.step(r, [prompts[0].slice(0, 3)], [new Map()], [0], 0));
    await this.both((r, which) => this.step(r, [prompts[0].slice(3)], head[which], [3], 3));
  }

  /** Runs the step on both models and compares what it returned. */
  private async both(step: (r: Runner, which: 0 | 1) => Promise<{ logits: Float32Array[]; caches: RowCache[] }>): Promise<[RowCache[], RowCache[]]> {
    const x = await step(this.a, 0);
    const y = await step(this.b, 1);
    x.logits.forEach((l, i) => (this.result.logits = Math.max(this.result.logits, relative(l, y.logits[i]))));
    x.caches.forEach((c, row) => {
      for (const [name, values] of c) this.result.presents = Math.max(this.result.presents, relative(values, y.caches[row].get(name)!));
    });
    return [x.caches, y.caches];
  }

  /**
   * One run: rows[r] new tokens after a past of `lengths[r]` real positions,
   * left-aligned in a past of `width` (all rows' new tokens have one count).
   * Returns each row's logits at its real new positions and its cache after.
   */
  private async step(r: Runner, tokens: number[][], caches: RowCache[], lengths: number[], width: number): Promise<{ logits: Float32Array[]; caches: RowCache[] }> {
    const { kvHeads, headDim, vocab } = this.shape;
    const batch = tokens.length;
    const n = Math.max(...tokens.map((t) => t.length));
    const total = width + n;
    const feeds: Record<string, ort.Tensor> = {};
    const ids = new BigInt64Array(batch * n);
    const positions = new BigInt64Array(batch * n);
    const mask = new BigInt64Array(batch * total);
    tokens.forEach((t, row) => {
      t.forEach((id, i) => (ids[row * n + i] = BigInt(id)));
      for (let i = 0; i < n; i++) positions[row * n + i] = BigInt(lengths[row] + i);
      for (let i = 0; i < lengths[row]; i++) mask[row * total + i] = 1n;
      for (let i = 0; i < t.length; i++) mask[row * total + width + i] = 1n;
    });
    // A prefill (no past) gives every row positions 0..n-1, pads included, as prefillBatch does.
    if (width === 0) positions.forEach((_, i) => (positions[i] = BigInt(i % n)));
    const ints = (name: string, values: BigInt64Array, dims: number[]): ort.Tensor =>
      r.intTypes.get(name) === "int32" ? new ort.Tensor("int32", Int32Array.from(values, Number), dims) : new ort.Tensor("int64", values, dims);
    feeds.input_ids = ints("input_ids", ids, [batch, n]);
    feeds.attention_mask = ints("attention_mask", mask, [batch, total]);
    if (r.positionIds) feeds.position_ids = ints("position_ids", positions, [batch, n]);
    for (const { past } of this.names) {
      const data = new Float32Array(batch * kvHeads * width * headDim);
      caches.forEach((c, row) => {
        const values = c.get(past);
        if (!values) return;
        const length = lengths[row];
        for (let h = 0; h < kvHeads; h++) {
          data.set(values.subarray(h * length * headDim, (h + 1) * length * headDim), ((row * kvHeads + h) * width) * headDim);
        }
      });
      feeds[past] = new ort.Tensor("float32", data, [batch, kvHeads, width, headDim]);
    }
    const out = await r.session.run(feeds);
    const logits = out.logits.data as Float32Array;
    const rowLogits = tokens.map((t, row) => logits.slice(row * n * vocab, (row * n + t.length) * vocab));
    const after = tokens.map((t, row) => {
      const cache: RowCache = new Map();
      for (const { past, present } of this.names) cache.set(past, realPositions(out[present], row, lengths[row], width, t.length, kvHeads, headDim));
      return cache;
    });
    this.checkNewPositions(out, tokens, after, lengths);
    return { logits: rowLogits, caches: after };
  }

  /**
   * A fused graph's new_key_values.N outputs (fused-graph.ts) must hold
   * exactly the positions the run wrote, for every row whose new tokens fill
   * the run (not a shorter row of a padded prefill): the server's decode
   * keeps its cache from these alone. A difference counts as a present's.
   */
  private checkNewPositions(out: ort.InferenceSession.ReturnType, tokens: number[][], caches: RowCache[], lengths: number[]): void {
    const { kvHeads, headDim } = this.shape;
    const n = Math.max(...tokens.map((t) => t.length));
    for (const { past, present } of this.names) {
      const gathered = out[present.replace("present.", NEW_KV_PREFIX)];
      if (!gathered) continue;
      const data = gathered.data as Float32Array;
      tokens.forEach((t, row) => {
        if (t.length !== n) return;
        const cache = caches[row].get(past)!;
        const count = lengths[row] + n;
        const expected = new Float32Array(kvHeads * n * headDim);
        const got = new Float32Array(kvHeads * n * headDim);
        for (let h = 0; h < kvHeads; h++) {
          expected.set(cache.subarray((h * count + lengths[row]) * headDim, (h * count + count) * headDim), h * n * headDim);
          got.set(data.subarray(((row * kvHeads + h) * n) * headDim, ((row * kvHeads + h) * n + n) * headDim), h * n * headDim);
        }
        this.result.presents = Math.max(this.result.presents, relative(expected, got));
      });
    }
  }
}

/**
 * Row `row`'s real positions of a present tensor [B, H, width + n, D]: its
 * past [0, length), then its new tokens, found where the model wrote them:
 * right after the length (in place) or after the whole padded past
 * (appended). In place is recognised as placement-probe.ts does: position
 * `length` is no longer the zero padding.
 */
function realPositions(present: ort.Tensor, row: number, length: number, width: number, added: number, heads: number, headDim: number): Float32Array {
  const data = present.data as Float32Array;
  const len = present.dims[2];
  const base = (h: number, p: number): number => ((row * heads + h) * len + p) * headDim;
  let inPlace = length === width;
  for (let h = 0; h < heads && !inPlace; h++) {
    for (let d = 0; d < headDim; d++) if (data[base(h, length) + d] !== 0) inPlace = true;
  }
  const from = inPlace ? length : width;
  const count = length + added;
  const out = new Float32Array(heads * count * headDim);
  for (let h = 0; h < heads; h++) {
    out.set(data.subarray(base(h, 0), base(h, length)), h * count * headDim);
    out.set(data.subarray(base(h, from), base(h, from + added)), (h * count + length) * headDim);
  }
  return out;
}

function relative(reference: Float32Array, candidate: Float32Array): number {
  if (reference.length !== candidate.length) return Infinity;
  let scale = 0;
  let worst = 0;
  for (let i = 0; i < reference.length; i++) {
    scale = Math.max(scale, Math.abs(reference[i]));
    const d = Math.abs(reference[i] - candidate[i]);
    worst = Number.isNaN(d) ? Infinity : Math.max(worst, d);
  }
  return scale === 0 ? worst : worst / scale;
}
