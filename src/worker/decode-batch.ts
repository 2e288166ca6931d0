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
 */
import type * as ort from "onnxruntime-node";
import { allocKv, copyRow, kvLength, movePosition, type KvGeometry } from "./kv-geometry.ts";
import type { KvPair } from "./io-spec.ts";

export type NewPositionPlacement = "appended" | "in-place";

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

  constructor(
    private readonly geometry: KvGeometry,
    private readonly layers: KvPair[],
    readonly placement: NewPositionPlacement,
  ) {}

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
    for (const name of this.names()) {
      const dst = allocKv(this.geometry, batch, width);
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
    return { past: this.past, lengths: this.lengths, width: this.width };
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

  private names(): string[] {
    return this.layers.flatMap((l) => (l.pastValue ? [l.pastKey, l.pastValue] : [l.pastKey]));
  }
}
