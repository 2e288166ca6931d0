/**
 * When the stream sends what: content at once but for a possible marker,
 * untrusted calls only once read whole, trusted calls as they arrive, and
 * what each mode makes of a call cut by the end of the output.
 */
import { describe, expect, it } from "vitest";
import { parseToolCalls } from "../../../src/generation/tools/parse-tool-calls.ts";
import { assembleToolCallEvents, type ToolCallEvent } from "../../../src/generation/tools/tool-call-events.ts";
import type { ToolCallFormat } from "../../../src/generation/tools/tool-call-format.ts";
import { ToolCallStream } from "../../../src/generation/tools/tool-call-stream.ts";
import { call, options, splits, streamed, streamEvents } from "./support.ts";

/** The 0-based position of the character whose push first produced an event of this type. */
function firstAt(format: ToolCallFormat, text: string, type: ToolCallEvent["type"], trusted: boolean): number {
  const perChar = streamEvents(format, [...text], options({ trusted }));
  return perChar.findIndex((events) => events.some((e) => e.type === type));
}

describe("content and hold-back", () => {
  it("sends text at once, holding only what may start a marker", () => {
    const stream = new ToolCallStream("hermes", options());
    expect(stream.push("Hello <tool")).toEqual([{ type: "content", text: "Hello " }]);
    expect(stream.push("_ca")).toEqual([]);
    expect(stream.push("rt> done")).toEqual([{ type: "content", text: "<tool_cart> done" }]);
    expect(stream.finish()).toEqual([]);
  });

  it("releases a held marker prefix at the end", () => {
    const stream = new ToolCallStream("mistral", options());
    expect(stream.push("see [TOOL_")).toEqual([{ type: "content", text: "see " }]);
    expect(stream.finish()).toEqual([{ type: "content", text: "[TOOL_" }]);
  });

  it("sends the content before a call before the call is complete", () => {
    const stream = new ToolCallStream("hermes", options());
    expect(stream.push('Checking.\n<tool_call>\n{"name": "get_')).toEqual([{ type: "content", text: "Checking.\n" }]);
    expect(stream.push('time", "arguments": {}}\n</tool_call>')).toEqual([
      { type: "tool_call_start", index: 0, id: "call_0", name: "get_time" },
      { type: "tool_call_arguments", index: 0, fragment: "{}" },
    ]);
  });

  it("holds leading whitespace until it is known not to precede a call, and sends it with the content", () => {
    const stream = new ToolCallStream("llama3-json", options());
    expect(stream.push("\n  ")).toEqual([]);
    expect(stream.push("Hi")).toEqual([{ type: "content", text: "\n  Hi" }]);
  });

  it("gives an output of only whitespace back as content", () => {
    expect(parseToolCalls("hermes", " \n", options())).toEqual({ content: " \n", toolCalls: [] });
  });

  it("counts the calls it sent", () => {
    const stream = new ToolCallStream("hermes", options());
    stream.push('<tool_call>{"name": "get_time"}</tool_call><tool_call>{"name": "nope"}</tool_call>');
    stream.finish();
    expect(stream.callCount).toBe(1);
  });

  it("sends nothing after finish", () => {
    const stream = new ToolCallStream("hermes", options());
    stream.finish();
    expect(stream.push("late")).toEqual([]);
    expect(stream.finish()).toEqual([]);
  });

  it("offers no call when no tools are offered", () => {
    const text = '<tool_call>{"name": "get_time", "arguments": {}}</tool_call>';
    expect(parseToolCalls("hermes", text, options({ tools: [] }))).toEqual({ content: text, toolCalls: [] });
  });
});

describe("untrusted calls are sent only once read whole", () => {
  const cases: Array<[ToolCallFormat, string]> = [
    ["hermes", 'Hm.<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call>'],
    ["llama3-json", '{"name": "get_weather", "parameters": {"city": "Paris"}}'],
    ["mistral", '[TOOL_CALLS] [{"name": "get_weather", "arguments": {"city": "Paris"}}, {"name": "get_time", "arguments": {}}]'],
  ];
  for (const [format, text] of cases) {
    it(`${format}: the start and the arguments come with the last character of the call`, () => {
      expect(firstAt(format, text, "tool_call_start", false)).toBe(text.length - 1);
      expect(firstAt(format, text, "tool_call_arguments", false)).toBe(text.length - 1);
    });
  }

  it("sends the arguments as one fragment", () => {
    const events = streamEvents("hermes", [...cases[0][1]], options()).flat();
    expect(events.filter((e) => e.type === "tool_call_arguments")).toEqual([
      { type: "tool_call_arguments", index: 0, fragment: '{"city": "Paris"}' },
    ]);
  });
});

describe("trusted calls stream as they arrive", () => {
  const text = '<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris", "unit": "celsius"}}\n</tool_call>';

  it("sends the start once the name is read, then the arguments piece by piece", () => {
    const nameEnd = text.indexOf('"get_weather"') + '"get_weather"'.length - 1;
    expect(firstAt("hermes", text, "tool_call_start", true)).toBe(nameEnd);
    expect(firstAt("hermes", text, "tool_call_arguments", true)).toBe(text.indexOf('{"city"'));
    const events = streamEvents("hermes", [...text], options({ trusted: true })).flat();
    const fragments = events.filter((e) => e.type === "tool_call_arguments");
    expect(fragments.length).toBe('{"city": "Paris", "unit": "celsius"}'.length);
    expect(assembleToolCallEvents(events)).toEqual({
      content: "",
      toolCalls: [call(0, "get_weather", '{"city": "Paris", "unit": "celsius"}')],
    });
  });

  it("streams each call of a Mistral array before the array ends", () => {
    const array = '[TOOL_CALLS] [{"name": "get_time", "arguments": {}}, {"name": "get_weather", "arguments": {"city": "Rome"}}]';
    const perChar = streamEvents("mistral", [...array], options({ trusted: true }));
    const secondStart = perChar.findIndex((events) => events.some((e) => e.type === "tool_call_start" && e.index === 1));
    expect(secondStart).toBe(array.indexOf('"get_weather"') + '"get_weather"'.length - 1);
  });

  it("waits for a name that comes after the arguments", () => {
    const stream = new ToolCallStream("hermes", options({ trusted: true }));
    expect(stream.push('<tool_call>{"arguments": {"timezone": "UTC"}, "name": "get_t')).toEqual([]);
    expect(stream.push('ime"}</tool_call>')).toEqual([
      { type: "tool_call_start", index: 0, id: "call_0", name: "get_time" },
      { type: "tool_call_arguments", index: 0, fragment: '{"timezone": "UTC"}' },
    ]);
  });

  it("sends an empty arguments object for a call without arguments", () => {
    expect(parseToolCalls("llama3-json", '{"name": "get_time"}', options({ trusted: true }))).toEqual({
      content: "",
      toolCalls: [call(0, "get_time", "{}")],
    });
  });

  it("keeps a committed call cut inside its arguments (max_tokens), as OpenAI does", () => {
    const cut = '<tool_call>\n{"name": "get_weather", "arguments": {"city": "Pa';
    for (const chunks of splits(cut)) {
      expect(streamed("hermes", chunks, options({ trusted: true }))).toEqual({
        content: "",
        toolCalls: [call(0, "get_weather", '{"city": "Pa')],
      });
    }
  });

  it("drops the unfinished syntax after a committed call at the end", () => {
    for (const cut of ['<tool_call>{"name": "get_time", "arguments": {}}\n</tool_', '[TOOL_CALLS] [{"name": "get_time", "arguments": {}}, {"na']) {
      const format: ToolCallFormat = cut.startsWith("[") ? "mistral" : "hermes";
      expect(parseToolCalls(format, cut, options({ trusted: true }))).toEqual({ content: "", toolCalls: [call(0, "get_time", "{}")] });
    }
  });

  it("gives a call cut before its name back as content", () => {
    const cut = 'Wait.\n<tool_call>\n{"name": "get_wea';
    expect(parseToolCalls("hermes", cut, options({ trusted: true }))).toEqual({ content: cut, toolCalls: [] });
  });

  it("gives a call to a function not offered back as content, before anything is sent", () => {
    const text = '<tool_call>{"name": "rm_rf", "arguments": {"path": "/"}}</tool_call>';
    const events = streamEvents("hermes", [...text], options({ trusted: true })).flat();
    expect(events.every((e) => e.type === "content")).toBe(true);
    expect(assembleToolCallEvents(events)).toEqual({ content: text, toolCalls: [] });
  });

  it("drops a second call when parallel calls are off", () => {
    const text = '{"name": "get_time", "parameters": {}}; {"name": "get_weather", "parameters": {"city": "Oslo"}}';
    const events = streamEvents("llama3-json", [...text], options({ trusted: true, parallel: false })).flat();
    expect(assembleToolCallEvents(events)).toEqual({ content: "", toolCalls: [call(0, "get_time", "{}")] });
  });

  it("turns text that breaks a committed call's syntax into content from that point", () => {
    // A correct grammar never writes this; the outcome is still the same however the text is split.
    const text = '<tool_call>{"name": "get_time", "arguments": {"timezone": "UTC"} oops</tool_call>after';
    for (const chunks of splits(text)) {
      expect(streamed("hermes", chunks, options({ trusted: true }))).toEqual({
        content: "oops</tool_call>after",
        toolCalls: [call(0, "get_time", '{"timezone": "UTC"}')],
      });
    }
  });
});
