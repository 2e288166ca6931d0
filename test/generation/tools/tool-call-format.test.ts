/**
 * Format detection from chat templates, on excerpts of the real templates'
 * tool sections, and the syntax table the grammars are built from.
 */
import { describe, expect, it } from "vitest";
import { detectToolCallFormat, openMarkers, TOOL_CALL_SYNTAX } from "../../../src/generation/tools/tool-call-format.ts";

const QWEN25 =
  '{%- if tools %}{{- "<|im_start|>system\\n" }}{{- "\\n\\n# Tools\\n\\nYou may call one or more functions to assist with the user query.\\n\\n' +
  'You are provided with function signatures within <tools></tools> XML tags:\\n<tools>" }}{%- for tool in tools %}{{- "\\n" }}{{- tool | tojson }}{%- endfor %}' +
  '{{- "\\n</tools>\\n\\nFor each function call, return a json object with function name and arguments within <tool_call></tool_call> XML tags:\\n' +
  '<tool_call>\\n{\\"name\\": <function-name>, \\"arguments\\": <args-json-object>}\\n</tool_call><|im_end|>\\n" }}{%- endif %}';

const LLAMA31 =
  '{%- if builtin_tools is defined or tools is not none %}{{- "Environment: ipython\\n" }}{%- endif %}' +
  '{{- \'Given the following functions, please respond with a JSON for a function call with its proper arguments that best answers the given prompt.\\n\\n\' }}' +
  '{{- \'Respond in the format {"name": function name, "parameters": dictionary of argument name and its value}.\' }}' +
  "{%- if builtin_tools is defined %}{{- '<|python_tag|>' + tool_call.name + '.call(' }}{%- endif %}";

const LLAMA32_NO_PYTHON_TAG =
  '{{- \'Respond in the format {"name": function name, "parameters": dictionary of argument name and its value}. Do not use variables.\\n\\n\' }}';

const MISTRAL_V3 =
  '{%- elif message.tool_calls is defined and message.tool_calls is not none %}{{- "[TOOL_CALLS] [" }}' +
  '{%- for tool_call in message.tool_calls %}{{- tool_call.function|tojson }}{%- endfor %}{{- "]" + eos_token }}';

const PLAIN_CHATML =
  "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}" +
  "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

describe("detectToolCallFormat", () => {
  it("reads Hermes/Qwen templates by <tool_call>", () => expect(detectToolCallFormat(QWEN25)).toBe("hermes"));
  it("reads Llama 3.1 templates by <|python_tag|>", () => expect(detectToolCallFormat(LLAMA31)).toBe("llama3-json"));
  it("reads Llama templates without the tag by their JSON instruction", () =>
    expect(detectToolCallFormat(LLAMA32_NO_PYTHON_TAG)).toBe("llama3-json"));
  it("reads Mistral templates by [TOOL_CALLS]", () => expect(detectToolCallFormat(MISTRAL_V3)).toBe("mistral"));
  it("falls back for a template that knows no tools, and for no template", () => {
    expect(detectToolCallFormat(PLAIN_CHATML)).toBe("fallback");
    expect(detectToolCallFormat(null)).toBe("fallback");
  });
  it("prefers Hermes when a Hermes template also spells out parameters", () =>
    expect(detectToolCallFormat(QWEN25 + '{"name": "x", "parameters": {}}')).toBe("hermes"));
});

describe("TOOL_CALL_SYNTAX", () => {
  it("describes each format's markers, arguments key and array form", () => {
    expect(TOOL_CALL_SYNTAX.hermes).toMatchObject({ openMarker: "<tool_call>", closeMarker: "</tool_call>", argumentsKey: "arguments", array: false });
    expect(TOOL_CALL_SYNTAX.fallback).toMatchObject({ openMarker: "<tool_call>", closeMarker: "</tool_call>", argumentsKey: "arguments", array: false });
    expect(TOOL_CALL_SYNTAX["llama3-json"]).toMatchObject({ openMarker: null, closeMarker: null, argumentsKey: "parameters", array: false });
    expect(TOOL_CALL_SYNTAX.mistral).toMatchObject({ openMarker: "[TOOL_CALLS]", closeMarker: null, argumentsKey: "arguments", array: true });
  });

  it("names its own format, and its canonical text opens with the open marker", () => {
    for (const [format, syntax] of Object.entries(TOOL_CALL_SYNTAX)) {
      expect(syntax.format).toBe(format);
      expect(syntax.canonical.before.startsWith(syntax.openMarker ?? "")).toBe(true);
      expect(openMarkers(syntax).length).toBeGreaterThan(0);
    }
  });
});
