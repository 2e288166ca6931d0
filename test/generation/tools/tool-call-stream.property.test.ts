/**
 * The stream against the whole text: random model outputs (content, valid
 * calls, broken calls, marker fragments, in each format) split into random
 * chunks must reassemble to exactly parseToolCalls of the whole, whether
 * trusted or not. Canonical outputs built from TOOL_CALL_SYNTAX — what the
 * grammars produce — must give back exactly the calls they were built from.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseToolCalls } from "../../../src/generation/tools/parse-tool-calls.ts";
import { TOOL_CALL_SYNTAX, type ToolCallFormat } from "../../../src/generation/tools/tool-call-format.ts";
import { options, streamed, TOOLS } from "./support.ts";

const FORMATS: ToolCallFormat[] = ["hermes", "llama3-json", "mistral", "fallback"];
const MARKERS = ["<tool_call>", "</tool_call>", "<|python_tag|>", "[TOOL_CALLS]"];

/** Text pieces chosen so that markers, their prefixes and JSON punctuation meet often. */
const piece = fc.oneof(
  fc.constantFrom("a", "Hi", " ", "\n", "{", "}", "[", "]", ";", ",", ":", '"', "\\", "<", ">", "/", "name"),
  fc.constantFrom(...MARKERS).chain((m) => fc.integer({ min: 1, max: m.length }).map((n) => m.slice(0, n))),
);
const text = (max: number): fc.Arbitrary<string> => fc.array(piece, { maxLength: max }).map((p) => p.join(""));

/** Argument objects as JSON text, with strings that contain markers and JSON punctuation, compact or indented. */
const argumentsText = fc
  .tuple(
    fc.dictionary(
      text(4),
      fc.oneof(text(6), fc.integer(), fc.boolean(), fc.constant(null), fc.array(text(3), { maxLength: 2 })),
      { maxKeys: 3 },
    ),
    fc.boolean(),
  )
  .map(([object, indent]) => JSON.stringify(object, null, indent ? 2 : undefined));

const toolName = fc.constantFrom(...TOOLS);

interface GeneratedCall {
  name: string;
  arguments: string;
}
const calls = (min: number): fc.Arbitrary<GeneratedCall[]> =>
  fc.array(fc.record({ name: toolName, arguments: argumentsText }), { minLength: min, maxLength: 3 });

/** What a grammar writes for these calls in this format. */
function canonical(format: ToolCallFormat, list: readonly GeneratedCall[]): string {
  const syntax = TOOL_CALL_SYNTAX[format];
  const objects = list.map((c) => `{"name": ${JSON.stringify(c.name)}, "${syntax.argumentsKey}": ${c.arguments}}`);
  return syntax.canonical.before + objects.join(syntax.canonical.between) + syntax.canonical.after;
}

/** A call group, or one broken in a way models break them: cut short, a character lost or doubled, a wrong name. */
const segment = (format: ToolCallFormat): fc.Arbitrary<string> =>
  fc.oneof(
    text(8),
    calls(1).map((list) => canonical(format, list)),
    fc.tuple(calls(1), fc.nat(), fc.constantFrom("cut", "drop", "double", "rename")).map(([list, at, how]) => {
      const whole = canonical(format, list);
      const i = at % whole.length;
      if (how === "cut") return whole.slice(0, i);
      if (how === "drop") return whole.slice(0, i) + whole.slice(i + 1);
      if (how === "double") return whole.slice(0, i) + whole[i] + whole.slice(i);
      return whole.replace(list[0].name, "not_offered");
    }),
  );

/** Random cut points, empty chunks included (a token may add no text). */
function chunk(whole: string, cuts: readonly number[]): string[] {
  const points = [...cuts.map((c) => c % (whole.length + 1)), whole.length].sort((x, y) => x - y);
  const chunks: string[] = [];
  let from = 0;
  for (const p of points) {
    chunks.push(whole.slice(from, p));
    from = p;
  }
  return chunks;
}

describe("tool-call stream against the whole text", () => {
  for (const format of FORMATS) {
    it(`${format}: any split of any output gives the same calls and content as the whole`, () => {
      fc.assert(
        fc.property(
          fc.array(segment(format), { minLength: 1, maxLength: 5 }).map((s) => s.join("")),
          fc.array(fc.nat(), { maxLength: 12 }),
          fc.boolean(),
          fc.boolean(),
          (output, cuts, trusted, parallel) => {
            const opts = options({ trusted, parallel });
            const whole = parseToolCalls(format, output, opts);
            expect(streamed(format, chunk(output, cuts), opts)).toEqual(whole);
            // Nothing is lost: an output in which no call stands is all content, as written.
            if (whole.toolCalls.length === 0) expect(whole.content).toBe(output);
            if (!parallel) expect(whole.toolCalls.length).toBeLessThanOrEqual(1);
          },
        ),
        { numRuns: 300 },
      );
    });

    it(`${format}: canonical calls parse back exactly, trusted or not`, () => {
      fc.assert(
        fc.property(calls(1), fc.array(fc.nat(), { maxLength: 12 }), fc.boolean(), (list, cuts, trusted) => {
          const output = canonical(format, list);
          const expected = {
            content: "",
            toolCalls: list.map((c, index) => ({ id: `call_${index}`, name: c.name, arguments: c.arguments })),
          };
          const opts = options({ trusted });
          expect(parseToolCalls(format, output, opts)).toEqual(expected);
          expect(streamed(format, chunk(output, cuts), opts)).toEqual(expected);
        }),
        { numRuns: 200 },
      );
    });
  }
});
