/** Placement: one decision per request, the least loaded ready worker, equal loads taking turns. */
import { describe, expect, it } from "vitest";
import { leastLoaded } from "../../src/engine/worker-pool.ts";

describe("leastLoaded", () => {
  it("picks the worker with the fewest rows held or waiting", () => {
    const load = new Map([["a", 5], ["b", 2], ["c", 9]]);
    for (let turn = 0; turn < 6; turn++) expect(leastLoaded(["a", "b", "c"], (w) => load.get(w) ?? 0, turn)).toBe("b");
  });

  it("equal loads take turns, so idle workers share a burst of arrivals", () => {
    const picks = Array.from({ length: 6 }, (_, turn) => leastLoaded(["a", "b", "c"], () => 0, turn));
    expect(picks).toEqual(["a", "b", "c", "a", "b", "c"]);
  });

  it("a burst placed one by one, each adding load, spreads evenly", () => {
    const load = new Map([["a", 0], ["b", 0]]);
    for (let turn = 0; turn < 8; turn++) {
      const w = leastLoaded(["a", "b"], (x) => load.get(x) ?? 0, turn);
      load.set(w, (load.get(w) ?? 0) + 1);
    }
    expect([...load.values()]).toEqual([4, 4]);
  });
});
