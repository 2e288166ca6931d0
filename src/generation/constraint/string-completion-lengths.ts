/**
 * Which (DFA state, code point count) pairs can still reach an accepted end
 * with a total length in [minLength, maxLength]. This is the length half of
 * the terminal's liveness test, precomputed once per constraint so a step
 * answers it by lookup; its own file because it is a self-contained
 * analysis of the WritableDfa graph with its own work limit.
 */
import { DEAD } from "./byte-terminal.ts";
import { STRING_TERMINAL_LIMITS, StringConstraintError } from "./string-constraint.ts";
import type { WritableDfa } from "./writable-dfa.ts";

/**
 * For every DFA state, the shortest accepted continuation, and for counts
 * below minLength the layers F_r = states with an accepted continuation
 * whose length lies in [r, r + (max - min)]: F_0 follows from the shortest
 * distances and F_{r+1} = predecessors of F_r. The layers repeat eventually
 * (there are finitely many state sets), so they are computed until a repeat
 * or r = minLength.
 */
export class CompletionLengths {
  private readonly minDistance: number[];
  private readonly layers: Uint8Array[] = [];
  /** Index of the first layer of the repeating cycle, and its length. */
  private cycleStart = 0;
  private cycleLength = 1;

  constructor(
    private readonly dfa: WritableDfa,
    private readonly min: number,
    private readonly max: number,
  ) {
    this.minDistance = shortestAcceptedDistances(dfa);
    if (min > 0) this.computeLayers();
  }

  /** True when state `s`, after `c` code points, has a continuation accepted by the DFA with a total length in [min, max]. */
  live(s: number, c: number): boolean {
    if (s === DEAD || c > this.max) return false;
    if (c >= this.min) return this.minDistance[s] !== Infinity && this.minDistance[s] <= this.max - c;
    return this.layer(this.min - c)[s] === 1;
  }

  private layer(r: number): Uint8Array {
    if (r < this.layers.length) return this.layers[r];
    return this.layers[this.cycleStart + ((r - this.cycleStart) % this.cycleLength)];
  }

  private computeLayers(): void {
    const count = this.dfa.stateCount;
    const slack = this.max - this.min;
    let current = new Uint8Array(count);
    for (let s = 0; s < count; s++) current[s] = this.minDistance[s] !== Infinity && this.minDistance[s] <= slack ? 1 : 0;
    const seen = new Map<string, number>();
    let work = 0;
    for (let r = 0; ; r++) {
      const key = layerKey(current);
      const earlier = seen.get(key);
      if (earlier !== undefined) {
        this.cycleStart = earlier;
        this.cycleLength = r - earlier;
        return;
      }
      seen.set(key, r);
      this.layers.push(current);
      if (r === this.min) return;
      const next = new Uint8Array(count);
      for (let s = 0; s < count; s++) {
        const out = this.dfa.successors(s);
        work += out.length + 1;
        for (const t of out) {
          if (current[t] === 1) {
            next[s] = 1;
            break;
          }
        }
      }
      if (work > STRING_TERMINAL_LIMITS.maxLengthAnalysisWork) {
        throw new StringConstraintError(
          "minLength",
          `minLength ${this.min} with this pattern needs too much analysis; lower minLength or simplify the pattern`,
        );
      }
      current = next;
    }
  }
}

function shortestAcceptedDistances(dfa: WritableDfa): number[] {
  const count = dfa.stateCount;
  const predecessors: number[][] = Array.from({ length: count }, () => []);
  const distance: number[] = new Array<number>(count).fill(Infinity);
  const queue: number[] = [];
  for (let s = 0; s < count; s++) {
    for (const t of dfa.successors(s)) predecessors[t].push(s);
    if (dfa.isAccepting(s)) {
      distance[s] = 0;
      queue.push(s);
    }
  }
  for (let head = 0; head < queue.length; head++) {
    const t = queue[head];
    for (const s of predecessors[t]) {
      if (distance[s] === Infinity) {
        distance[s] = distance[t] + 1;
        queue.push(s);
      }
    }
  }
  return distance;
}

function layerKey(layer: Uint8Array): string {
  let key = "";
  for (let i = 0; i < layer.length; i += 16) {
    let bits = 0;
    for (let j = 0; j < 16 && i + j < layer.length; j++) bits |= layer[i + j] << j;
    key += String.fromCharCode(bits + 0x20);
  }
  return key;
}
