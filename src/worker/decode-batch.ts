/**
 * The rows of a worker that are decoding, as one batch: one past tensor per
 * KV input, [batch, heads, width, headDim], every row's valid positions
 * left-aligned at [0, length) and the rest zero (right padding). One decode
 * step feeds every row its last token and grows the width by one, with no
 * copy of the cache: the present tensors become the next past.
 *
 * Where a step writes a shorter row's new position depends on the attention
 * kernel: plain attention appends it at the end (index = width), while
 * GroupQueryAttention writes it right after the row's own length. The
 * placement is measured at load (placement-probe.ts); "appended" rows are
 * moved back into place after each step (one position per row and layer),
 * so both kinds keep the same left-aligned layout.
 *
 * KV hand-over. By default a step's present tensors become the next past.
 * onnxruntime-node copies every output it returns into a fresh buffer, and
 * the presents are the whole cache: at batch 16 on a 135M model that copy
 * is about a third of a step. Where the graph also outputs the positions
 * each run wrote (new_key_values.N, optimize --fuse) and the attention
 * writes in place (GroupQueryAttention), the batch instead keeps the cache
 * in its own buffers with room to grow ([batch, heads, capacity, headDim],
 * rows left-aligned as above), feeds them as the past as they are (inputs
 * are not copied), and writes only the returned new positions into them:
 * GroupQueryAttention reads each row up to its own length (seqlens_k), so
 * the room past the lengths is never read. Growing copies the rows once
 * per CAPACITY_STEP positions.
 */
import type * as ort from "onnxruntime-node";
import { allocKv, copyRow, kvGeometry, kvLength, movePosition, type KvData, type KvGeometry } from "./kv-geometry.ts";
import type { IoSpec, KvPair } from "./io-spec.ts";

export type NewPositionPlacement = "appended" | "in-place";

/** How a step's cache comes back: the whole present tensors, or only the positions it wrote. */
export type KvHandOver = "presents" | "new-positions";

/** Room added past the longest row whenever the batch's buffers are (re)allocated in the new-positions hand-over. */
export const CAPACITY_STEP = 64;

export interface DecodeFeeds {
  past: Record<string, ort.Tensor>;
  /** Per row: valid positions before this step. */
  lengths: number[];
  width: number;
}

/** A row joining the batch: its cache from prefill, row `sourceRow` of `past`. */
export interface JoiningRow {
  rowId: number;
  past: Record<string, ort.Tensor>;
  sourceRow: number;
  length: number;
}

export class DecodeBatch {
  rowIds: number[] = [];
  lengths: number[] = [];
  width = 0;
  private past: Record<string, ort.Tensor> = {};
  readonly handOver: KvHandOver;

  constructor(
    private readonly geometry: KvGeometry,
    private readonly layers: KvPair[],
    readonly placement: NewPositionPlacement,
    /** The graph outputs each layer's new positions (IoSpec kv.newPositions). */
    newPositionOutputs = false,
  ) {
    this.handOver = newPositionOutputs && placement === "in-place" && geometry.lead === 1 ? "new-positions" : "presents";
  }

  /** The batch a runner's graph calls for: the new-positions hand-over where the graph offers it. */
  static for(io: IoSpec, placement: NewPositionPlacement): DecodeBatch {
    return new DecodeBatch(kvGeometry(io), io.kv.layers, placement, io.kv.newPositions);
  }

  get size(): number {
    return this.rowIds.length;
  }

  has(rowId: number): boolean {
    return this.rowIds.includes(rowId);
  }

  /** Drops rows not in `keep` and adds `joining`, copying every kept row once. */
  rebuild(keep: (rowId: number) => boolean, joining: JoiningRow[]): void {
    const kept = this.rowIds.map((id, i) => ({ id, i })).filter(({ id }) => keep(id));
    if (kept.length === this.rowIds.length && joining.length === 0) return;
    const lengths = [...kept.map(({ i }) => this.lengths[i]), ...joining.map((j) => j.length)];
    const batch = lengths.length;
    // Width shrinks to the longest remaining row: a departed long row leaves no padding behind.
    const width = batch === 0 ? 0 : Math.max(...lengths);
    const past: Record<string, ort.Tensor> = {};
    const room = this.handOver === "new-positions" ? width + CAPACITY_STEP : width;
    for (const name of this.names()) {
      const dst = allocKv(this.geometry, batch, room);
      kept.forEach(({ i }, row) => copyRow(this.geometry, this.past[name], i, dst, row, this.lengths[i]));
      joining.forEach((j, k) => copyRow(this.geometry, j.past[name], j.sourceRow, dst, kept.length + k, j.length));
      past[name] = dst;
    }
    this.rowIds = [...kept.map(({ id }) => id), ...joining.map((j) => j.rowId)];
    this.lengths = lengths;
    this.width = width;
    this.past = past;
  }

  feeds(): DecodeFeeds {
    if (this.handOver === "new-positions") this.makeRoom();
    return { past: this.past, lengths: this.lengths, width: this.width };
  }

  /** The output names a step must return: everything (null), or the logits and each layer's new positions. */
  fetches(logits: string): string[] | null {
    if (this.handOver === "presents") return null;
    return [logits, ...this.layers.flatMap((l) => [l.newKey!, l.newValue!])];
  }

  /** The new-positions hand-over: writes each row's new position [batch, heads, 1, headDim] at its length. */
  advanceNew(out: Record<string, ort.Tensor>): void {
    const { heads, headDim } = this.geometry;
    for (const layer of this.layers) {
      for (const [pastName, newName] of [[layer.pastKey, layer.newKey!], [layer.pastValue!, layer.newValue!]]) {
        const fresh = out[newName];
        if (!fresh || kvLength(fresh) !== 1) throw new Error(`decode step returned no single new position in "${newName}"`);
        const src = fresh.data as KvData;
        const dst = this.past[pastName];
        const data = dst.data as KvData;
        const room = kvLength(dst);
        const batch = this.lengths.length;
        for (let row = 0; row < batch; row++) {
          for (let h = 0; h < heads; h++) {
            const from = (row * heads + h) * headDim;
            data.set(src.subarray(from, from + headDim), ((row * heads + h) * room + this.lengths[row]) * headDim);
          }
        }
      }
    }
    this.width += 1;
    this.lengths = this.lengths.map((l) => l + 1);
  }

  /** Takes a step's present tensors as the new past, restoring left alignment. */
  advance(present: Record<string, ort.Tensor>): void {
    const names = this.names();
    const grown = kvLength(present[names[0]]);
    if (grown !== this.width + 1) {
      throw new Error(`decode step returned a cache of length ${grown}, expected ${this.width + 1}`);
    }
    if (this.placement === "appended") {
      this.lengths.forEach((length, row) => {
        if (length === this.width) return;
        for (const name of names) movePosition(this.geometry, present[name], row, this.width, length);
      });
    }
    this.past = present;
    this.width += 1;
    this.lengths = this.lengths.map((l) => l + 1);
  }

  /** Reallocates with CAPACITY_STEP more positions once the next step's new position would not fit. */
  private makeRoom(): void {
    const names = this.names();
    if (names.length === 0 || this.lengths.length === 0) return;
    const room = kvLength(this.past[names[0]]);
    if (this.width < room) return;
    for (const name of names) {
      const dst = allocKv(this.geometry, this.lengths.length, this.width + CAPACITY_STEP);
      this.lengths.forEach((length, row) => copyRow(this.geometry, this.past[name], row, dst, row, length));
      this.past[name] = dst;
    }
  }

  private names(): string[] {
    return this.layers.flatMap((l) => (l.pastValue ? [l.pastKey, l.pastValue] : [l.pastKey]));
  }
}
