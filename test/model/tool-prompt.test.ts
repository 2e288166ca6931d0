/**
 * The fallback for templates without tool support (src/model/tool-prompt.ts):
 * the Qwen2.5 preamble, calls as `<tool_call>` text, results as
 * `<tool_response>` user turns; and pythonJson, the JSON layout templates use.
 */
import { describe, expect, it } from "vitest";
import { pythonJson } from "../../src/model/python-json.ts";
import type { TemplateMessage, TemplateTool } from "../../src/model/template-input.ts";
import { toolCallText, toolPreamble, withToolsAsText } from "../../src/model/tool-prompt.ts";

const weather: TemplateTool = {
  type: "function",
  function: { name: "get_weather", description: "Current weather", parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] } },
};
const call = (id: string, args: string | Record<string, string>) => ({
  id,
  type: "function" as const,
  function: { name: "get_weather", arguments: args },
});

describe("pythonJson", () => {
  it("writes Python's json.dumps layout, non-ASCII as it is", () => {
    expect(pythonJson({ a: [1, 2.5, { b: null }], c: "Zürich \"q\"", d: true })).toBe('{"a": [1, 2.5, {"b": null}], "c": "Zürich \\"q\\"", "d": true}');
    expect(pythonJson([])).toBe("[]");
    expect(pythonJson({})).toBe("{}");
  });
});

describe("toolPreamble", () => {
  it("is Qwen2.5's system text, one tool per line", () => {
    expect(toolPreamble([weather, { type: "function", function: { name: "f", parameters: {} } }])).toBe(
      [
        "# Tools",
        "",
        "You may call one or more functions to assist with the user query.",
        "",
        "You are provided with function signatures within <tools></tools> XML tags:",
        "<tools>",
        '{"type": "function", "function": {"name": "get_weather", "description": "Current weather", "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}',
        '{"type": "function", "function": {"name": "f", "parameters": {}}}',
        "</tools>",
        "",
        "For each function call, return a json object with function name and arguments within <tool_call></tool_call> XML tags:",
        "<tool_call>",
        '{"name": <function-name>, "arguments": <args-json-object>}',
        "</tool_call>",
      ].join("\n"),
    );
  });
});

describe("toolCallText", () => {
  it("a call in the Hermes format; arguments that were not a JSON object stay as sent", () => {
    expect(toolCallText(call("c1", { city: "Paris" }))).toBe('<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call>');
    expect(toolCallText(call("c1", '{"city": "Par'))).toBe('<tool_call>\n{"name": "get_weather", "arguments": {"city": "Par}\n</tool_call>');
  });
});

describe("withToolsAsText", () => {
  const preamble = toolPreamble([weather]);

  it("appends the preamble to the first system message", () => {
    const out = withToolsAsText([{ role: "system", content: "Be brief." }, { role: "user", content: "Hi" }], [weather]);
    expect(out).toEqual([{ role: "system", content: `Be brief.\n\n${preamble}` }, { role: "user", content: "Hi" }]);
  });

  it("or to a first developer message, or an empty system message", () => {
    expect(withToolsAsText([{ role: "developer", content: "D" }], [weather])[0]).toEqual({ role: "developer", content: `D\n\n${preamble}` });
    expect(withToolsAsText([{ role: "system", content: "" }], [weather])[0]).toEqual({ role: "system", content: preamble });
  });

  it("prepends a system message when the first message is not one", () => {
    const out = withToolsAsText([{ role: "user", content: "Hi" }, { role: "system", content: "late" }], [weather]);
    expect(out).toEqual([{ role: "system", content: preamble }, { role: "user", content: "Hi" }, { role: "system", content: "late" }]);
  });

  it("no tools: no preamble, the history still as text", () => {
    const messages: TemplateMessage[] = [
      { role: "user", content: "Weather?" },
      { role: "assistant", content: "", tool_calls: [call("c1", { city: "Paris" })] },
      { role: "tool", content: "21C", tool_call_id: "c1" },
    ];
    expect(withToolsAsText(messages, null)).toEqual([
      { role: "user", content: "Weather?" },
      { role: "assistant", content: '<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call>' },
      { role: "user", content: "<tool_response>\n21C\n</tool_response>" },
    ]);
    expect(withToolsAsText([{ role: "user", content: "Hi" }], [])).toEqual([{ role: "user", content: "Hi" }]);
  });

  it("calls follow the turn's text; consecutive results share one user turn; a later message starts anew", () => {
    const messages: TemplateMessage[] = [
      { role: "user", content: "Paris and Oslo?" },
      { role: "assistant", content: "Checking.", name: "bot", tool_calls: [call("c1", { city: "Paris" }), call("c2", { city: "Oslo" })] },
      { role: "tool", content: "21C", tool_call_id: "c1" },
      { role: "tool", content: "3C", tool_call_id: "c2" },
      { role: "assistant", content: "Paris 21C, Oslo 3C." },
      { role: "user", content: "And Rome?" },
      { role: "assistant", content: "", tool_calls: [call("c3", { city: "Rome" })] },
      { role: "tool", content: "25C", tool_call_id: "c3" },
    ];
    expect(withToolsAsText(messages, null)).toEqual([
      { role: "user", content: "Paris and Oslo?" },
      {
        role: "assistant",
        name: "bot",
        content:
          'Checking.\n<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call>\n<tool_call>\n{"name": "get_weather", "arguments": {"city": "Oslo"}}\n</tool_call>',
      },
      { role: "user", content: "<tool_response>\n21C\n</tool_response>\n<tool_response>\n3C\n</tool_response>" },
      { role: "assistant", content: "Paris 21C, Oslo 3C." },
      { role: "user", content: "And Rome?" },
      { role: "assistant", content: '<tool_call>\n{"name": "get_weather", "arguments": {"city": "Rome"}}\n</tool_call>' },
      { role: "user", content: "<tool_response>\n25C\n</tool_response>" },
    ]);
  });

  it("leaves its input as it was", () => {
    const messages: TemplateMessage[] = [
      { role: "system", content: "S" },
      { role: "tool", content: "a", tool_call_id: "c" },
      { role: "tool", content: "b", tool_call_id: "d" },
    ];
    const copy = structuredClone(messages);
    withToolsAsText(messages, [weather]);
    expect(messages).toEqual(copy);
  });
});
