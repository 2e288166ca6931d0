/**
 * Reasoning split on Qwen3 / DeepSeek-R1 style outputs: tags split across
 * chunks at every point, outputs that start inside the block, and the rule
 * that reasoning never reaches content.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { detectReasoningTags, promptOpensReasoning, THINK_TAGS } from "../../../src/generation/tools/reasoning-tags.ts";
import { ReasoningStream, type ReasoningEvent } from "../../../src/generation/tools/reasoning-stream.ts";

interface Split {
  reasoning: string;
  content: string;
}

function run(chunks: readonly string[], startsInside: boolean): { events: ReasoningEvent[][]; split: Split } {
  const stream = new ReasoningStream(THINK_TAGS, { startsInside });
  const events = [...chunks.map((c) => stream.push(c)), stream.finish()];
  const split = { reasoning: "", content: "" };
  for (const event of events.flat()) {
    expect(event.text.length).toBeGreaterThan(0);
    split[event.type] += event.text;
  }
  return { events, split };
}

function everySplit(text: string): string[][] {
  const result: string[][] = [[...text]];
  for (let at = 0; at <= text.length; at++) result.push([text.slice(0, at), text.slice(at)]);
  return result;
}

const cases: Array<{ name: string; text: string; startsInside: boolean; expected: Split }> = [
  {
    name: "Qwen3 thinking: a block, then the answer",
    text: "<think>\nThe user wants 2+2. That is 4.\n</think>\n\nThe answer is 4.",
    startsInside: false,
    expected: { reasoning: "The user wants 2+2. That is 4.\n", content: "The answer is 4." },
  },
  {
    name: "the prompt opened the block (Qwen3 thinking-2507, DeepSeek-R1): no opening tag in the output",
    text: "Let me think about <b>tags</b>.\n</think>\n\nDone.",
    startsInside: true,
    expected: { reasoning: "Let me think about <b>tags</b>.\n", content: "Done." },
  },
  {
    name: "an empty block (thinking switched off by the model)",
    text: "<think>\n\n</think>\n\nHello!",
    startsInside: false,
    expected: { reasoning: "", content: "Hello!" },
  },
  {
    name: "no block: all content, leading whitespace kept",
    text: "\nHello <thinking> is not a tag",
    startsInside: false,
    expected: { reasoning: "", content: "\nHello <thinking> is not a tag" },
  },
  {
    name: "a tag after content has begun is text",
    text: "Use <think> and </think> to reason.",
    startsInside: false,
    expected: { reasoning: "", content: "Use <think> and </think> to reason." },
  },
  {
    name: "a block cut by the end of the output stays reasoning",
    text: "<think>\nStill thinking </thi",
    startsInside: false,
    expected: { reasoning: "Still thinking </thi", content: "" },
  },
  {
    name: "a lone opening-tag prefix at the end is content",
    text: "  <thi",
    startsInside: false,
    expected: { reasoning: "", content: "  <thi" },
  },
  {
    name: "only the first closing tag ends the block",
    text: "<think>a</think>b</think>c",
    startsInside: false,
    expected: { reasoning: "a", content: "b</think>c" },
  },
];

describe("ReasoningStream", () => {
  for (const c of cases) {
    it(`${c.name} (every split point)`, () => {
      for (const chunks of everySplit(c.text)) expect(run(chunks, c.startsInside).split).toEqual(c.expected);
    });
  }

  it("streams reasoning as it comes, holding back only a possible closing tag", () => {
    const stream = new ReasoningStream(THINK_TAGS, { startsInside: false });
    expect(stream.push("<thi")).toEqual([]);
    expect(stream.push("nk>\nHmm, ")).toEqual([{ type: "reasoning", text: "Hmm, " }]);
    expect(stream.push("ok</th")).toEqual([{ type: "reasoning", text: "ok" }]);
    expect(stream.push("ink>\n\nYes")).toEqual([{ type: "content", text: "Yes" }]);
    expect(stream.push(" <think>")).toEqual([{ type: "content", text: " <think>" }]);
    expect(stream.finish()).toEqual([]);
  });

  it("never puts reasoning into content, however the text is split", () => {
    const word = fc.constantFrom("a", " ", "\n", "<", ">", "/", "think", "<think>", "</think>", "</th", "ink>");
    const textOf = (max: number) => fc.array(word, { maxLength: max }).map((w) => w.join("").replaceAll("</think>", ""));
    fc.assert(
      fc.property(textOf(8), textOf(8), fc.array(fc.nat(), { maxLength: 8 }), (thought, answer, cuts) => {
        // The reasoning has no closing tag of its own (removing tags can join pieces into one): the first one ends it.
        fc.pre(!thought.includes("</think>"));
        const text = `${thought}</think>\n${answer}`;
        const points = [...cuts.map((c) => c % (text.length + 1)), text.length].sort((x, y) => x - y);
        const chunks = points.map((p, i) => text.slice(i === 0 ? 0 : points[i - 1], p));
        const { split } = run(chunks, true);
        expect(split.reasoning).toBe(thought.trimStart());
        expect(split.content).toBe(answer.trimStart());
        expect(run([text], true).split).toEqual(split);
      }),
      { numRuns: 500 },
    );
  });

  it("sends nothing after finish", () => {
    const stream = new ReasoningStream(THINK_TAGS, { startsInside: true });
    expect(stream.finish()).toEqual([]);
    expect(stream.push("late")).toEqual([]);
  });
});

describe("detecting thinking templates", () => {
  const QWEN3 =
    "{%- if reasoning_content %}{{- '<|im_start|>' + message.role + '\\n<think>\\n' + reasoning_content.strip('\\n') + '\\n</think>\\n\\n' }}{%- endif %}" +
    "{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- if enable_thinking is defined and enable_thinking is false %}" +
    "{{- '<think>\\n\\n</think>\\n\\n' }}{%- endif %}{%- endif %}";
  const DEEPSEEK_R1 =
    "{% if '</think>' in content %}{% set content = content.split('</think>')[-1] %}{% endif %}" +
    "{% if add_generation_prompt %}{{'<｜Assistant｜><think>\\n'}}{% endif %}";

  it("finds <think> tags in Qwen3 and DeepSeek-R1 templates, none elsewhere", () => {
    expect(detectReasoningTags(QWEN3)).toEqual(THINK_TAGS);
    expect(detectReasoningTags(DEEPSEEK_R1)).toEqual(THINK_TAGS);
    expect(detectReasoningTags("{{ messages[0].content }}")).toBeNull();
    expect(detectReasoningTags(null)).toBeNull();
  });

  it("tells whether the rendered prompt leaves the model inside the block", () => {
    expect(promptOpensReasoning("<|im_start|>assistant\n<think>\n", THINK_TAGS)).toBe(true);
    expect(promptOpensReasoning("<｜Assistant｜><think>\n", THINK_TAGS)).toBe(true);
    expect(promptOpensReasoning("<|im_start|>assistant\n<think>\n\n</think>\n\n", THINK_TAGS)).toBe(false);
    expect(promptOpensReasoning("<|im_start|>assistant\n", THINK_TAGS)).toBe(false);
  });
});
