/**
 * The page's SSE parser (src/playground/sse-parser.js), run under Node:
 * whatever the byte stream's chunk boundaries (inside a UTF-8 character,
 * between "\r" and "\n"), the events come out whole and without U+FFFD.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { SseParser } from "../../src/playground/sse-parser.js";

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);

/** Feeds `stream` cut at `cuts` (sorted byte offsets) and collects every event. */
function parse(stream: Uint8Array, cuts: number[]): string[] {
  const parser = new SseParser();
  const events: string[] = [];
  let start = 0;
  for (const cut of [...cuts, stream.length]) {
    events.push(...parser.push(stream.subarray(start, cut)));
    start = cut;
  }
  return events;
}

const chunk = (content: string): string => JSON.stringify({ choices: [{ index: 0, delta: { content } }] });

describe("SseParser", () => {
  const stream = bytes(`data: ${chunk("你好！")}\n\ndata: ${chunk("🙂🎉 ok")}\n\n: keep-alive\n\ndata: [DONE]\n\n`);
  const expected = [chunk("你好！"), chunk("🙂🎉 ok"), "[DONE]"];

  it("gives the same events for one cut at every byte offset", () => {
    for (let cut = 0; cut <= stream.length; cut++) expect(parse(stream, [cut]), `cut at ${cut}`).toEqual(expected);
  });

  it("gives the same events fed one byte at a time", () => {
    const events = parse(stream, Array.from({ length: stream.length }, (_, i) => i));
    expect(events).toEqual(expected);
    expect(events.join("")).not.toContain("\uFFFD");
  });

  it("reads \\r\\n, \\r and \\n line ends, a \\r\\n split between chunks included", () => {
    const mixed = bytes("data: a\r\n\r\ndata: b\r\rdata: c\n\n");
    for (let cut = 0; cut <= mixed.length; cut++) expect(parse(mixed, [cut]), `cut at ${cut}`).toEqual(["a", "b", "c"]);
  });

  it("joins data lines with \\n, ignores comments and other fields, and keeps an unfinished event back", () => {
    const parser = new SseParser();
    expect(parser.push(bytes("data: one\ndata:two\ndata\nevent: x\nid: 7\nretry: 10\n: note\n\n"))).toEqual(["one\ntwo\n"]);
    expect(parser.push(bytes("data:  indented\n"))).toEqual([]);
    expect(parser.push(bytes("\n"))).toEqual([" indented"]);
    expect(parser.push(bytes("\n\n: only a comment\n\n"))).toEqual([]);
    expect(parser.push(bytes("data: never finished\n"))).toEqual([]);
  });

  it("property: any events, cut anywhere, come out as they went in", () => {
    const line = fc.string({ unit: fc.constantFrom("a", " ", ":", "é", "中", "文", "🙂", "👩‍👩‍👧", "\uFEFF"), maxLength: 12 });
    fc.assert(
      fc.property(fc.array(line, { minLength: 1, maxLength: 6 }), fc.array(fc.nat(), { maxLength: 8 }), (events, rawCuts) => {
        const encoded = bytes(events.map((e) => `data: ${e}\n\n`).join(""));
        const cuts = [...new Set(rawCuts.map((c) => c % (encoded.length + 1)))].sort((a, b) => a - b);
        expect(parse(encoded, cuts)).toEqual(events);
      }),
    );
  });
});
