import { describe, expect, it } from "vitest";
import { keptBytes, SpecialTokenIndex, textsKeeping } from "../../src/worker/kept-markers.ts";
import type { TokenTexts } from "../../src/worker/worker-row.ts";

// A decoder that skips the special ids 90..99, as decode with skip_special_tokens does.
const texts: TokenTexts = {
  decode: (ids) => ids.filter((id) => id < 90).map((id) => String.fromCharCode(97 + id)).join(""),
  tokenText: (id) => (id === 90 ? "[TOOL_CALLS]" : id === 91 ? "<|eot|>" : String.fromCharCode(97 + id)),
};
const index = new SpecialTokenIndex([90, 91], texts.tokenText);

describe("kept call markers", () => {
  it("finds the markers that are special tokens, and only those", () => {
    expect([...index.kept(["[TOOL_CALLS]", "<tool_call>"])]).toEqual([[90, "[TOOL_CALLS]"]]);
    expect(index.kept([]).size).toBe(0);
  });

  it("a row's decode shows kept markers where they are and still skips other special tokens", () => {
    const keeping = textsKeeping(texts, index.kept(["[TOOL_CALLS]"]));
    expect(keeping.decode([0, 1, 90, 2, 91, 3])).toBe("ab[TOOL_CALLS]cd");
    expect(keeping.decode([90])).toBe("[TOOL_CALLS]");
    expect(texts.decode([0, 1, 90, 2])).toBe("abc");
    expect(textsKeeping(texts, new Map())).toBe(texts);
  });

  it("gives the kept markers their UTF-8 bytes for the trigger", () => {
    expect([...keptBytes(index.kept(["[TOOL_CALLS]"]))]).toEqual([[90, new TextEncoder().encode("[TOOL_CALLS]")]]);
  });
});
