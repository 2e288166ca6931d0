/**
 * StopStringFilter over random texts split into random chunks. The texts use
 * a three-letter alphabet so stop strings actually occur, overlap and repeat.
 *
 * Reference semantics: generation stops at the first character where some
 * stop string is complete, and the text is cut where that stop string starts
 * (when several complete at the same character, the longest one, which
 * starts first). This depends only on the text, never on how it was chunked
 * into tokens.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { StopStringFilter } from "../../src/generation/stop-strings.ts";

const letter = fc.constantFrom("a", "b", "c");
const word = (min: number, max: number): fc.Arbitrary<string> =>
  fc.array(letter, { minLength: min, maxLength: max }).map((l) => l.join(""));
const stops = fc.array(word(1, 4), { minLength: 0, maxLength: 3 });

/** A text and a random split of it into chunks (empty chunks included: a token may add no text). */
const chunked = word(0, 30).chain((text) =>
  fc
    .uniqueArray(fc.integer({ min: 0, max: text.length }), { maxLength: 12 })
    .chain((cuts) => fc.tuple(fc.constant(cuts), fc.array(fc.integer({ min: 0, max: text.length }), { maxLength: 2 })))
    .map(([cuts, empties]) => {
      const points = [...cuts, ...empties, text.length].sort((x, y) => x - y);
      const chunks: string[] = [];
      let from = 0;
      for (const p of points) {
        chunks.push(text.slice(from, p));
        from = p;
      }
      return { text, chunks };
    }),
);

/** The reference: scan the text character by character. */
function firstStop(text: string, stopList: readonly string[]): { cut: number; end: number } | null {
  for (let end = 1; end <= text.length; end++) {
    let cut = -1;
    for (const stop of stopList) {
      if (end >= stop.length && text.startsWith(stop, end - stop.length)) {
        const at = end - stop.length;
        if (cut === -1 || at < cut) cut = at;
      }
    }
    if (cut !== -1) return { cut, end };
  }
  return null;
}

function run(chunks: readonly string[], stopList: readonly string[]): { emitted: string[]; stopped: boolean; flushed: string } {
  const filter = new StopStringFilter(stopList);
  const emitted: string[] = [];
  let stopped = false;
  for (const chunk of chunks) {
    const check = filter.push(chunk);
    emitted.push(check.emit);
    if (check.stopped) {
      stopped = true;
      break;
    }
  }
  return { emitted, stopped, flushed: filter.flush() };
}

describe("StopStringFilter properties", () => {
  it("never emits a stop string, not even across chunks", () => {
    fc.assert(
      fc.property(chunked, stops, ({ chunks }, stopList) => {
        const { emitted, flushed } = run(chunks, stopList);
        let sent = "";
        for (const piece of [...emitted, flushed]) {
          sent += piece;
          for (const stop of stopList) expect(sent).not.toContain(stop);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it("emits the text up to the first stop string, then nothing (flush included)", () => {
    fc.assert(
      fc.property(chunked, stops, ({ text, chunks }, stopList) => {
        const { emitted, stopped, flushed } = run(chunks, stopList);
        const hit = firstStop(text, stopList);
        expect(stopped).toBe(hit !== null);
        if (hit) {
          expect(emitted.join("")).toBe(text.slice(0, hit.cut));
          expect(flushed).toBe("");
        } else {
          expect(emitted.join("") + flushed).toBe(text);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it("stops at the chunk that completes the first stop string", () => {
    fc.assert(
      fc.property(chunked, stops, ({ text, chunks }, stopList) => {
        const hit = firstStop(text, stopList);
        const { emitted, stopped } = run(chunks, stopList);
        if (!hit) return;
        expect(stopped).toBe(true);
        // Chunks consumed before stopping cover the text up to the stop's last character.
        const consumed = chunks.slice(0, emitted.length).join("").length;
        const before = chunks.slice(0, emitted.length - 1).join("").length;
        expect(before).toBeLessThan(hit.end);
        expect(consumed).toBeGreaterThanOrEqual(hit.end);
      }),
      { numRuns: 1000 },
    );
  });

  it("emits everything, in order, when no stop string occurs (held text comes out on flush)", () => {
    fc.assert(
      fc.property(chunked, stops, ({ text, chunks }, stopList) => {
        fc.pre(firstStop(text, stopList) === null);
        const { emitted, stopped, flushed } = run(chunks, stopList);
        expect(stopped).toBe(false);
        expect(emitted.join("") + flushed).toBe(text);
        // Held back at any time: only a proper prefix of some stop string.
        expect(stopList.some((s) => s.length > flushed.length && s.startsWith(flushed)) || flushed === "").toBe(true);
      }),
      { numRuns: 1000 },
    );
  });

  it("passes text straight through when there are no stop strings", () => {
    fc.assert(
      fc.property(chunked, ({ text, chunks }) => {
        const { emitted, flushed } = run(chunks, []);
        expect(emitted).toEqual(chunks);
        expect(emitted.join("")).toBe(text);
        expect(flushed).toBe("");
      }),
    );
  });
});

describe("StopStringFilter examples", () => {
  it("a stop split across chunks never leaks, even in part", () => {
    const filter = new StopStringFilter(["llo"]);
    expect(filter.push("Hel")).toEqual({ emit: "He", stopped: false });
    expect(filter.push("lo")).toEqual({ emit: "", stopped: true });
    expect(filter.flush()).toBe("");
  });

  it("emits the text before the stop in full", () => {
    const filter = new StopStringFilter(["\n\nUser:"]);
    expect(filter.push("The answer is 4.")).toEqual({ emit: "The answer is 4.", stopped: false });
    expect(filter.push("\n")).toEqual({ emit: "", stopped: false });
    expect(filter.push("\nUs")).toEqual({ emit: "", stopped: false });
    expect(filter.push("er: and more")).toEqual({ emit: "", stopped: true });
  });

  it("releases held text once it can no longer become a stop string", () => {
    const filter = new StopStringFilter(["END"]);
    expect(filter.push("the E")).toEqual({ emit: "the ", stopped: false });
    expect(filter.push("N")).toEqual({ emit: "", stopped: false });
    expect(filter.push("d")).toEqual({ emit: "ENd", stopped: false });
  });

  it("flush releases held text when generation ends for another reason", () => {
    const filter = new StopStringFilter(["END"]);
    expect(filter.push("the EN")).toEqual({ emit: "the ", stopped: false });
    expect(filter.flush()).toBe("EN");
    expect(filter.flush()).toBe("");
  });

  it("takes the first stop string to complete, cut where it starts", () => {
    // "bc" completes at the third character, before "abcd" could: the text
    // is cut at "bc" whether "abcd" arrives in one chunk or in two.
    for (const chunks of [["abcd"], ["abc", "d"], ["a", "b", "c", "d"]]) {
      const { emitted, stopped } = run(chunks, ["abcd", "bc"]);
      expect(stopped).toBe(true);
      expect(emitted.join("")).toBe("a");
    }
    // Two stop strings completing at the same character: the longer one wins.
    expect(run(["xx\n\nUser:"], ["User:", "\n\nUser:"]).emitted.join("")).toBe("xx");
    // A stop string starting earlier in the same chunk wins over a later one.
    expect(run(["one STOP two END"], ["END", "STOP"]).emitted.join("")).toBe("one ");
  });

  it("after stopping, every push emits nothing and reports stopped", () => {
    const filter = new StopStringFilter(["x"]);
    expect(filter.push("abxcd")).toEqual({ emit: "ab", stopped: true });
    expect(filter.push("more")).toEqual({ emit: "", stopped: true });
    expect(filter.flush()).toBe("");
  });

  it("handles stop strings beyond ASCII", () => {
    const filter = new StopStringFilter(["。\n", "😀"]);
    expect(filter.push("你好")).toEqual({ emit: "你好", stopped: false });
    expect(filter.push("。")).toEqual({ emit: "", stopped: false });
    expect(filter.push("\n再见")).toEqual({ emit: "", stopped: true });
    const emoji = new StopStringFilter(["😀"]);
    expect(emoji.push("a😀b")).toEqual({ emit: "a", stopped: true });
  });
});
