/**
 * DFA minimization by Hopcroft partition refinement, over the explicit
 * transition rows WritableDfa explores. Its own file because it is a
 * self-contained algorithm with its own data structure (a refinable
 * partition over one permuted array) and nothing string-specific.
 */
import { DEAD } from "./byte-terminal.ts";

/**
 * Hopcroft's partition refinement (O(k n log n); Moore's would be quadratic
 * on the long chains `{n,m}` produces). States that cannot accept all fall
 * into one block with an implicit sink standing for DEAD; the result numbers
 * the other blocks 0..blockCount-1 and gives useless states DEAD.
 */
export function equivalenceBlocks(
  rows: readonly Int32Array[],
  letters: readonly number[],
  accepting: Uint8Array,
  useful: Uint8Array,
): { block: Int32Array; blockCount: number } {
  const count = rows.length;
  const sink = count;
  const size = count + 1;
  const target = (s: number, k: number): number => {
    if (s === sink || useful[s] === 0) return sink;
    const t = rows[s][k];
    return t === DEAD || useful[t] === 0 ? sink : t;
  };

  // Inverse transitions per letter, as offsets into one array of sources.
  const inverseStart: Int32Array[] = [];
  const inverseSources: Int32Array[] = [];
  for (const k of letters) {
    const starts = new Int32Array(size + 1);
    for (let s = 0; s < size; s++) starts[target(s, k) + 1]++;
    for (let t = 0; t < size; t++) starts[t + 1] += starts[t];
    const fill = starts.slice(0, size);
    const sources = new Int32Array(size);
    for (let s = 0; s < size; s++) sources[fill[target(s, k)]++] = s;
    inverseStart.push(starts);
    inverseSources.push(sources);
  }

  // A refinable partition: each block is a range of `elements`; marked elements sit at the front of their range.
  const elements = new Int32Array(size);
  const position = new Int32Array(size);
  const blockOf = new Int32Array(size);
  const first: number[] = [];
  const end: number[] = [];
  const markedEnd: number[] = [];
  const initialKey = (s: number): number => (s === sink || useful[s] === 0 ? 0 : accepting[s] === 1 ? 1 : 2);
  let at = 0;
  for (let key = 0; key < 3; key++) {
    const from = at;
    for (let s = 0; s < size; s++) {
      if (initialKey(s) !== key) continue;
      elements[at] = s;
      position[s] = at;
      blockOf[s] = first.length;
      at++;
    }
    if (at > from) {
      first.push(from);
      end.push(at);
      markedEnd.push(from);
    }
  }

  const pending: number[] = first.map((_, b) => b);
  const isPending: boolean[] = first.map(() => true);
  const touched: number[] = [];
  const mark = (s: number): void => {
    const b = blockOf[s];
    const i = position[s];
    const j = markedEnd[b];
    if (i < j) return;
    if (j === first[b]) touched.push(b);
    const other = elements[j];
    elements[j] = s;
    position[s] = j;
    elements[i] = other;
    position[other] = i;
    markedEnd[b] = j + 1;
  };

  while (pending.length > 0) {
    const splitter = pending.pop() as number;
    isPending[splitter] = false;
    const members = elements.slice(first[splitter], end[splitter]);
    for (let li = 0; li < letters.length; li++) {
      const starts = inverseStart[li];
      const sources = inverseSources[li];
      for (const t of members) for (let i = starts[t]; i < starts[t + 1]; i++) mark(sources[i]);
      for (const b of touched) {
        if (markedEnd[b] === end[b]) {
          markedEnd[b] = first[b];
          continue;
        }
        // Split: the marked front becomes a new block, the rest stays as b.
        const created = first.length;
        first.push(first[b]);
        end.push(markedEnd[b]);
        markedEnd.push(first[b]);
        first[b] = markedEnd[b];
        markedEnd[b] = first[b];
        for (let i = first[created]; i < end[created]; i++) blockOf[elements[i]] = created;
        if (isPending[b] || end[created] - first[created] <= end[b] - first[b]) {
          pending.push(created);
          isPending.push(true);
        } else {
          pending.push(b);
          isPending[b] = true;
          isPending.push(false);
        }
      }
      touched.length = 0;
    }
  }

  // Number the blocks of useful states densely; the sink's block is DEAD.
  const sinkBlock = blockOf[sink];
  const number = new Int32Array(first.length).fill(DEAD);
  let blockCount = 0;
  const block = new Int32Array(count).fill(DEAD);
  for (let s = 0; s < count; s++) {
    const b = blockOf[s];
    if (b === sinkBlock) continue;
    if (number[b] === DEAD) number[b] = blockCount++;
    block[s] = number[b];
  }
  return { block, blockCount };
}
