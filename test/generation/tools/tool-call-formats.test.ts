/**
 * The parser on hand-written model outputs, one table per format. Each case
 * is checked whole (parseToolCalls), split at every point into two chunks,
 * and one character at a time: all must give the same calls and content.
 * Valid outputs must also parse the same when trusted (streamed as read).
 */
import { describe, expect, it } from "vitest";
import { parseToolCalls } from "../../../src/generation/tools/parse-tool-calls.ts";
import type { ParsedToolCalls } from "../../../src/generation/tools/tool-call-events.ts";
import type { ToolCallFormat } from "../../../src/generation/tools/tool-call-format.ts";
import { call, options, splits, streamed } from "./support.ts";

interface Case {
  name: string;
  text: string;
  expected: ParsedToolCalls;
  /** Only valid calls: trusted mode must agree. */
  valid?: boolean;
  parallel?: boolean;
}

/** The text itself, as content: what a malformed call becomes. */
const asContent = (text: string): ParsedToolCalls => ({ content: text, toolCalls: [] });

const WEATHER_PARIS = '{"city": "Paris", "unit": "celsius"}';

const hermes: Case[] = [
  {
    name: "a call alone, as Qwen writes it",
    text: `<tool_call>\n{"name": "get_weather", "arguments": ${WEATHER_PARIS}}\n</tool_call>`,
    expected: { content: "", toolCalls: [call(0, "get_weather", WEATHER_PARIS)] },
    valid: true,
  },
  {
    name: "text before a call",
    text: `Let me check the weather.\n<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call>`,
    expected: { content: "Let me check the weather.\n", toolCalls: [call(0, "get_weather", '{"city": "Paris"}')] },
    valid: true,
  },
  {
    name: "two calls; the whitespace between and after them is dropped",
    text:
      '<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call>\n' +
      '<tool_call>\n{"name": "get_time", "arguments": {"timezone": "Europe/Paris"}}\n</tool_call>\n',
    expected: {
      content: "",
      toolCalls: [call(0, "get_weather", '{"city": "Paris"}'), call(1, "get_time", '{"timezone": "Europe/Paris"}')],
    },
    valid: true,
  },
  {
    name: "whitespace before a first call is dropped, text after a call is content",
    text: '\n\n<tool_call>{"name":"get_time","arguments":{}}</tool_call>\nOne moment.',
    expected: { content: "\nOne moment.", toolCalls: [call(0, "get_time", "{}")] },
    valid: true,
  },
  {
    name: "braces, quotes, escapes and the close marker inside argument strings",
    text: '<tool_call>\n{"name": "run_sql", "arguments": {"query": "SELECT \'}\' AS \\"x\\" -- </tool_call> {", "limit": [1, {"a": null}]}}\n</tool_call>',
    expected: {
      content: "",
      toolCalls: [call(0, "run_sql", '{"query": "SELECT \'}\' AS \\"x\\" -- </tool_call> {", "limit": [1, {"a": null}]}')],
    },
    valid: true,
  },
  {
    name: "no arguments member: an empty arguments object",
    text: '<tool_call>{"name": "get_time"}</tool_call>',
    expected: { content: "", toolCalls: [call(0, "get_time", "{}")] },
    valid: true,
  },
  {
    name: "the Llama key 'parameters' is accepted too",
    text: '<tool_call>{"name": "get_time", "parameters": {"timezone": "UTC"}}</tool_call>',
    expected: { content: "", toolCalls: [call(0, "get_time", '{"timezone": "UTC"}')] },
    valid: true,
  },
  {
    name: "other members (an id) are ignored",
    text: '<tool_call>{"name": "get_time", "arguments": {"timezone": "UTC"}, "id": 7}</tool_call>',
    expected: { content: "", toolCalls: [call(0, "get_time", '{"timezone": "UTC"}')] },
    valid: true,
  },
  {
    name: "text that only looks like the start of a marker is content",
    text: "Use <tool> tags, or <tool_cal and <tool_call without the rest",
    expected: asContent("Use <tool> tags, or <tool_cal and <tool_call without the rest"),
    valid: true,
  },
  {
    name: "parallel_tool_calls false keeps the first call only",
    text:
      '<tool_call>{"name": "get_weather", "arguments": {"city": "Oslo"}}</tool_call>\n' +
      '<tool_call>{"name": "get_time", "arguments": {}}</tool_call>',
    expected: { content: "", toolCalls: [call(0, "get_weather", '{"city": "Oslo"}')] },
    valid: true,
    parallel: false,
  },
  {
    name: "malformed JSON (a brace missing) is content, close marker included",
    text: 'Sure.\n<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}\n</tool_call>',
    expected: asContent('Sure.\n<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}\n</tool_call>'),
  },
  {
    name: "malformed JSON inside a value (a bare word) is content",
    text: '<tool_call>{"name": "get_weather", "arguments": {"city": Paris}}</tool_call>',
    expected: asContent('<tool_call>{"name": "get_weather", "arguments": {"city": Paris}}</tool_call>'),
  },
  {
    name: "a broken call is content, and the next good call still counts",
    text: '<tool_call>{"name": "get_weather", oops}</tool_call>\n<tool_call>{"name": "get_time", "arguments": {}}</tool_call>',
    expected: {
      content: '<tool_call>{"name": "get_weather", oops}</tool_call>\n',
      toolCalls: [call(0, "get_time", "{}")],
    },
  },
  {
    name: "an unknown function is content",
    text: '<tool_call>\n{"name": "delete_everything", "arguments": {}}\n</tool_call>',
    expected: asContent('<tool_call>\n{"name": "delete_everything", "arguments": {}}\n</tool_call>'),
  },
  {
    name: "arguments that are not an object are content",
    text: '<tool_call>{"name": "get_weather", "arguments": "city=Paris"}</tool_call>',
    expected: asContent('<tool_call>{"name": "get_weather", "arguments": "city=Paris"}</tool_call>'),
  },
  {
    name: "two names are ambiguous: content",
    text: '<tool_call>{"name": "get_weather", "name": "get_time", "arguments": {}}</tool_call>',
    expected: asContent('<tool_call>{"name": "get_weather", "name": "get_time", "arguments": {}}</tool_call>'),
  },
  {
    name: "a call unterminated at the end is content, with the whitespace before it",
    text: '<tool_call>{"name": "get_weather", "arguments": {}}</tool_call>\n<tool_call>\n{"name": "get_time", "arguments": {"timezone": "UT',
    expected: {
      content: '\n<tool_call>\n{"name": "get_time", "arguments": {"timezone": "UT',
      toolCalls: [call(0, "get_weather", "{}")],
    },
  },
  {
    name: "a complete object without its close marker at the end is content",
    text: '<tool_call>\n{"name": "get_time", "arguments": {}}\n',
    expected: asContent('<tool_call>\n{"name": "get_time", "arguments": {}}\n'),
  },
];

const llama: Case[] = [
  {
    name: "a bare JSON call, as Llama 3.1 answers custom tools",
    text: '{"name": "get_weather", "parameters": {"city": "Paris"}}',
    expected: { content: "", toolCalls: [call(0, "get_weather", '{"city": "Paris"}')] },
    valid: true,
  },
  {
    name: "a call after <|python_tag|>",
    text: '<|python_tag|>{"name": "get_weather", "parameters": {"city": "Paris"}}',
    expected: { content: "", toolCalls: [call(0, "get_weather", '{"city": "Paris"}')] },
    valid: true,
  },
  {
    name: "text before <|python_tag|>",
    text: 'I will look it up.<|python_tag|>{"name": "get_time", "parameters": {"timezone": "UTC"}}',
    expected: { content: "I will look it up.", toolCalls: [call(0, "get_time", '{"timezone": "UTC"}')] },
    valid: true,
  },
  {
    name: "two calls separated by '; ', after leading whitespace",
    text: '\n{"name": "get_weather", "parameters": {"city": "Paris"}}; {"name": "get_time", "parameters": {"timezone": "CET"}}',
    expected: {
      content: "",
      toolCalls: [call(0, "get_weather", '{"city": "Paris"}'), call(1, "get_time", '{"timezone": "CET"}')],
    },
    valid: true,
  },
  {
    name: "two calls each after <|python_tag|>",
    text: '<|python_tag|>{"name": "get_time", "parameters": {}}\n<|python_tag|>{"name": "get_time", "arguments": {"timezone": "UTC"}}',
    expected: { content: "", toolCalls: [call(0, "get_time", "{}"), call(1, "get_time", '{"timezone": "UTC"}')] },
    valid: true,
  },
  {
    name: "a JSON answer that is not a call is content",
    text: '{"answer": 42, "unit": "km"}',
    expected: asContent('{"answer": 42, "unit": "km"}'),
    valid: true,
  },
  {
    name: "a bare object after text is content (bare calls only where a call may start)",
    text: 'Here it is: {"name": "get_weather", "parameters": {"city": "Paris"}}',
    expected: asContent('Here it is: {"name": "get_weather", "parameters": {"city": "Paris"}}'),
    valid: true,
  },
  {
    name: "prose that starts with a brace is content",
    text: "{ is a brace; } closes it",
    expected: asContent("{ is a brace; } closes it"),
    valid: true,
  },
  {
    name: "code after <|python_tag|> (the built-in interpreter) is content",
    text: "<|python_tag|>print(1 + 1)",
    expected: asContent("<|python_tag|>print(1 + 1)"),
    valid: true,
  },
  {
    name: "malformed JSON: a value that is not JSON",
    text: '{"name": "get_weather", "parameters": {"city": Paris}}',
    expected: asContent('{"name": "get_weather", "parameters": {"city": Paris}}'),
  },
  {
    name: "an unknown function is content",
    text: '<|python_tag|>{"name": "send_email", "parameters": {"to": "x"}}',
    expected: asContent('<|python_tag|>{"name": "send_email", "parameters": {"to": "x"}}'),
  },
  {
    name: "a call unterminated at the end is content",
    text: '{"name": "get_weather", "parameters": {"city": "Paris"}',
    expected: asContent('{"name": "get_weather", "parameters": {"city": "Paris"}'),
  },
];

const mistral: Case[] = [
  {
    name: "the array form with two calls",
    text: '[TOOL_CALLS] [{"name": "get_weather", "arguments": {"city": "Paris"}}, {"name": "get_time", "arguments": {"timezone": "CET"}}]',
    expected: {
      content: "",
      toolCalls: [call(0, "get_weather", '{"city": "Paris"}'), call(1, "get_time", '{"timezone": "CET"}')],
    },
    valid: true,
  },
  {
    name: "no space after the marker, an id member, nested arrays in the arguments",
    text: '[TOOL_CALLS][{"name": "run_sql", "arguments": {"ids": [1, [2, 3]], "q": "a]b"}, "id": "a1B2c3D4e"}]',
    expected: { content: "", toolCalls: [call(0, "run_sql", '{"ids": [1, [2, 3]], "q": "a]b"}')] },
    valid: true,
  },
  {
    name: "a single object without the array",
    text: '[TOOL_CALLS] {"name": "get_time", "arguments": {}}',
    expected: { content: "", toolCalls: [call(0, "get_time", "{}")] },
    valid: true,
  },
  {
    name: "text before the marker",
    text: 'Checking both.[TOOL_CALLS][{"name": "get_time", "arguments": {"timezone": "UTC"}}]',
    expected: { content: "Checking both.", toolCalls: [call(0, "get_time", '{"timezone": "UTC"}')] },
    valid: true,
  },
  {
    name: "parallel_tool_calls false keeps the first element",
    text: '[TOOL_CALLS][{"name": "get_time", "arguments": {}}, {"name": "get_weather", "arguments": {"city": "Rome"}}]',
    expected: { content: "", toolCalls: [call(0, "get_time", "{}")] },
    valid: true,
    parallel: false,
  },
  {
    name: "one unknown function makes the whole array content",
    text: '[TOOL_CALLS] [{"name": "get_weather", "arguments": {"city": "Paris"}}, {"name": "nope", "arguments": {}}]',
    expected: asContent('[TOOL_CALLS] [{"name": "get_weather", "arguments": {"city": "Paris"}}, {"name": "nope", "arguments": {}}]'),
  },
  {
    name: "an array unterminated at the end is content",
    text: '[TOOL_CALLS] [{"name": "get_weather", "arguments": {"city": "Paris"}}, ',
    expected: asContent('[TOOL_CALLS] [{"name": "get_weather", "arguments": {"city": "Paris"}}, '),
  },
  {
    name: "a marker followed by something else is content",
    text: "[TOOL_CALLS] none needed",
    expected: asContent("[TOOL_CALLS] none needed"),
  },
  {
    name: "an empty array is content",
    text: "[TOOL_CALLS] []",
    expected: asContent("[TOOL_CALLS] []"),
  },
];

const fallback: Case[] = [
  {
    name: "the fallback preamble's Hermes syntax",
    text: 'On it.\n<tool_call>{"name": "get_weather", "arguments": {"city": "Lima"}}</tool_call>',
    expected: { content: "On it.\n", toolCalls: [call(0, "get_weather", '{"city": "Lima"}')] },
    valid: true,
  },
  {
    name: "a malformed call is content",
    text: '<tool_call>{"name": "get_weather", "arguments": {"city": "Lima"}}}</tool_call>',
    expected: asContent('<tool_call>{"name": "get_weather", "arguments": {"city": "Lima"}}}</tool_call>'),
  },
];

const tables: Array<[ToolCallFormat, Case[]]> = [
  ["hermes", hermes],
  ["llama3-json", llama],
  ["mistral", mistral],
  ["fallback", fallback],
];

for (const [format, cases] of tables) {
  describe(`${format} outputs`, () => {
    for (const c of cases) {
      it(c.name, () => {
        const opts = options({ parallel: c.parallel ?? true });
        expect(parseToolCalls(format, c.text, opts)).toEqual(c.expected);
        for (const chunks of splits(c.text)) expect(streamed(format, chunks, opts)).toEqual(c.expected);
        if (c.valid) {
          const trusted = { ...opts, trusted: true };
          expect(parseToolCalls(format, c.text, trusted)).toEqual(c.expected);
          for (const chunks of splits(c.text)) expect(streamed(format, chunks, trusted)).toEqual(c.expected);
        }
      });
    }
  });
}
