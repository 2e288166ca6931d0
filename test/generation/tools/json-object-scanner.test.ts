/**
 * The structure scanner on its own: where members' values are, where the
 * object ends, and which characters it refuses (without consuming them).
 */
import { describe, expect, it } from "vitest";
import { JsonObjectScanner, type ScanStep } from "../../../src/generation/tools/json-object-scanner.ts";

function scan(text: string): { scanner: JsonObjectScanner; steps: ScanStep[] } {
  const scanner = new JsonObjectScanner();
  const steps: ScanStep[] = [];
  for (const ch of text) {
    const step = scanner.step(ch);
    steps.push(step);
    if (step !== "ok") break;
  }
  return { scanner, steps };
}

describe("JsonObjectScanner", () => {
  it("finds each member's value span and the end of the object", () => {
    const text = '{"name": "a\\"}", "n": -1.5e3 , "args": {"x": [1, "]"]}, "t":true}';
    const { scanner, steps } = scan(text);
    expect(steps.at(-1)).toBe("end");
    expect(steps.length).toBe(text.length);
    const values = scanner.members.map((m) => [m.key, scanner.text.slice(m.start, m.end ?? undefined)]);
    expect(values).toEqual([
      ["name", '"a\\"}"'],
      ["n", "-1.5e3"],
      ["args", '{"x": [1, "]"]}'],
      ["t", "true"],
    ]);
  });

  it("reports a value still arriving with no end", () => {
    const { scanner } = scan('{"args": {"x": "Pa');
    expect(scanner.members).toEqual([{ key: "args", start: 9, end: null }]);
  });

  it("accepts an empty object", () => {
    expect(scan("{ }").steps).toEqual(["ok", "ok", "end"]);
  });

  for (const bad of ['x', '{x', '{"a" 1', '{"a":}', '{"a":1 "b"', '{"a":[}', '{"a":1,}', '{"a":1}}']) {
    it(`refuses ${JSON.stringify(bad)} at the offending character, without consuming it`, () => {
      const scanner = new JsonObjectScanner();
      let consumed = "";
      for (const ch of bad) {
        const step = scanner.step(ch);
        if (step === "error") break;
        consumed += ch;
      }
      expect(scanner.text).toBe(consumed);
      expect(consumed.length).toBeLessThan(bad.length);
    });
  }
});
