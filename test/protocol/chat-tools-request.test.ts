/**
 * Tool calling in chat requests (docs/API.md "Tools"): `tools`,
 * `tool_choice` and `parallel_tool_calls` with OpenAI's defaults and rules,
 * the tool-call history in `messages`, and `chat_template_kwargs`.
 */
import { describe, expect, it } from "vitest";
import { parseChatRequest } from "../../src/protocol/chat-request.ts";
import { limits, rejectionBy } from "./helpers.ts";

const base = { model: "tiny-chat", messages: [{ role: "user", content: "Weather in Paris?" }] };
const rejection = rejectionBy(parseChatRequest);
const parse = (extra: Record<string, unknown>) => parseChatRequest({ ...base, ...extra }, limits);
const weatherParameters = { type: "object", properties: { city: { type: "string" } }, required: ["city"] };
const weather = { type: "function", function: { name: "get_weather", description: "Current weather", parameters: weatherParameters } };
const time = { type: "function", function: { name: "get-time_2" } };

describe("tools and tool_choice", () => {
  it("tools given: choice auto, parallel calls, and the template sees the tools", () => {
    const { request } = parse({ tools: [weather, time] });
    const tools = [
      { name: "get_weather", description: "Current weather", parameters: weatherParameters },
      // OpenAI's meaning of a function without parameters: no arguments.
      { name: "get-time_2", parameters: { type: "object", properties: {} } },
    ];
    expect(request.tools).toEqual({ tools, choice: { kind: "auto" }, parallel: true });
    expect(request.prompt).toEqual({ kind: "chat", messages: base.messages, tools, templateKwargs: {} });
  });

  it("no tools: null, and the template sees none", () => {
    for (const extra of [{}, { tools: null }, { tools: [] }, { tools: [], tool_choice: "none" }, { tool_choice: null }, { parallel_tool_calls: false }]) {
      const { request } = parse(extra);
      expect(request.tools).toBeNull();
      expect(request.prompt).toMatchObject({ tools: [] });
    }
  });

  it("every tool_choice form", () => {
    expect(parse({ tools: [weather], tool_choice: "none" }).request.tools?.choice).toEqual({ kind: "none" });
    expect(parse({ tools: [weather], tool_choice: "auto" }).request.tools?.choice).toEqual({ kind: "auto" });
    expect(parse({ tools: [weather], tool_choice: "required" }).request.tools?.choice).toEqual({ kind: "required" });
    expect(parse({ tools: [weather, time], tool_choice: { type: "function", function: { name: "get-time_2" } } }).request.tools?.choice).toEqual({
      kind: "function",
      name: "get-time_2",
    });
  });

  it("tool_choice none keeps the tools for the template (OpenAI still shows them to the model)", () => {
    const { request } = parse({ tools: [weather], tool_choice: "none" });
    expect(request.tools).toMatchObject({ choice: { kind: "none" } });
    expect(request.prompt).toMatchObject({ tools: [{ name: "get_weather" }] });
  });

  it("a JSON response_format with tool_choice none, and stop with auto or none, are accepted", () => {
    expect(parse({ tools: [weather], tool_choice: "none", response_format: { type: "json_object" } }).request.constraint).toEqual({ kind: "json_object" });
    expect(parse({ tools: [weather], stop: ["\n\n"] }).request.stop).toEqual(["\n\n"]);
    expect(parse({ tools: [weather], tool_choice: "none", stop: "x" }).request.stop).toEqual(["x"]);
  });

  it("parallel_tool_calls false and strict are accepted", () => {
    const strict = { type: "function", function: { ...weather.function, strict: true } };
    expect(parse({ tools: [strict], parallel_tool_calls: false }).request.tools?.parallel).toBe(false);
  });

  for (const [name, extra, param] of [
    ["tools not an array", { tools: {} }, "tools"],
    ["a tool not an object", { tools: ["f"] }, "tools[0]"],
    ["a tool without function", { tools: [{ type: "function" }] }, "tools[0].function"],
    ["a tool with an unknown field", { tools: [{ ...weather, extra: 1 }] }, "tools[0].extra"],
    ["a function with an unknown field", { tools: [{ type: "function", function: { name: "f", examples: [] } }] }, "tools[0].function.examples"],
    ["a name with a space", { tools: [{ type: "function", function: { name: "get weather" } }] }, "tools[0].function.name"],
    ["an empty name", { tools: [{ type: "function", function: { name: "" } }] }, "tools[0].function.name"],
    ["a 65-character name", { tools: [{ type: "function", function: { name: "f".repeat(65) } }] }, "tools[0].function.name"],
    ["a description not a string", { tools: [{ type: "function", function: { name: "f", description: 1 } }] }, "tools[0].function.description"],
    ["parameters not an object", { tools: [{ type: "function", function: { name: "f", parameters: "{}" } }] }, "tools[0].function.parameters"],
    ["parameters as an array", { tools: [{ type: "function", function: { name: "f", parameters: [] } }] }, "tools[0].function.parameters"],
    ["strict not a boolean", { tools: [{ type: "function", function: { name: "f", strict: "yes" } }] }, "tools[0].function.strict"],
    ["a name offered twice", { tools: [weather, time, weather] }, "tools[2].function.name"],
    ["129 tools", { tools: Array.from({ length: 129 }, (_, i) => ({ type: "function", function: { name: `f${i}` } })) }, "tools"],
    ["tool_choice an unknown string", { tools: [weather], tool_choice: "any" }, "tool_choice"],
    ["tool_choice a function not offered", { tools: [weather], tool_choice: { type: "function", function: { name: "nope" } } }, "tool_choice"],
    ["tool_choice auto without tools", { tool_choice: "auto" }, "tool_choice"],
    ["tool_choice required without tools", { tools: [], tool_choice: "required" }, "tool_choice"],
    ["tool_choice a function without tools", { tool_choice: { type: "function", function: { name: "f" } } }, "tool_choice"],
    ["tool_choice a function without a name", { tools: [weather], tool_choice: { type: "function", function: {} } }, "tool_choice.function.name"],
    ["parallel_tool_calls not a boolean", { tools: [weather], parallel_tool_calls: "yes" }, "parallel_tool_calls"],
    ["a JSON response_format with tools (auto by default)", { tools: [weather], response_format: { type: "json_object" } }, "response_format"],
    ["a JSON response_format with tool_choice required", { tools: [weather], tool_choice: "required", response_format: { type: "json_object" } }, "response_format"],
    ["stop with tool_choice required", { tools: [weather], tool_choice: "required", stop: ["\""] }, "stop"],
    ["stop with a named tool_choice", { tools: [weather], tool_choice: { type: "function", function: { name: "get_weather" } }, stop: "x" }, "stop"],
  ] as const) {
    it(`${name} -> 400 on ${param}`, () => {
      const err = rejection({ ...base, ...extra });
      expect(err.param).toBe(param);
      expect(err.type).toBe("invalid_request_error");
    });
  }

  it("a schema larger than --max-schema-bytes -> 400 schema_too_large on that tool's parameters", () => {
    const big = { type: "object", description: "x".repeat(200) };
    const err = rejection({ ...base, tools: [time, { type: "function", function: { name: "f", parameters: big } }] }, { ...limits, maxSchemaBytes: 100 });
    expect([err.param, err.code]).toEqual(["tools[1].function.parameters", "schema_too_large"]);
  });

  it("custom tools and allowed_tools choices are known but not supported", () => {
    const custom = rejection({ ...base, tools: [weather, { type: "custom", custom: { name: "c" } }] });
    expect([custom.param, custom.code]).toEqual(["tools[1].type", "unsupported_parameter"]);
    const allowed = rejection({ ...base, tools: [weather], tool_choice: { type: "allowed_tools", allowed_tools: { mode: "auto", tools: [] } } });
    expect([allowed.param, allowed.code]).toEqual(["tool_choice", "unsupported_parameter"]);
  });

  it("the legacy functions API stays refused", () => {
    expect(rejection({ ...base, functions: [{ name: "f" }] }).code).toBe("unsupported_parameter");
    expect(rejection({ ...base, function_call: "auto" }).param).toBe("function_call");
    expect(rejection({ ...base, messages: [{ role: "assistant", content: null, function_call: { name: "f", arguments: "{}" } }] }).param).toBe("messages[0].function_call");
  });
});

describe("the tool-call history", () => {
  const call = { id: "call_1", type: "function", function: { name: "get_weather", arguments: '{"city": "Paris"}' } };
  const history = (assistant: Record<string, unknown>) => [
    ...base.messages,
    { role: "assistant", ...assistant },
    { role: "tool", tool_call_id: "call_1", content: '{"temp": 21}' },
  ];

  it("an assistant turn's calls with null, absent, string or text-part content; the tool turn's id", () => {
    for (const [content, text] of [
      [null, ""],
      [undefined, ""],
      ["Let me check.", "Let me check."],
      [[{ type: "text", text: "Let me" }, { type: "text", text: " check." }], "Let me check."],
    ] as const) {
      const assistant = content === undefined ? { tool_calls: [call] } : { content, tool_calls: [call] };
      const { request } = parse({ messages: history(assistant), tools: [weather] });
      expect(request.prompt).toMatchObject({
        messages: [
          base.messages[0],
          { role: "assistant", content: text, toolCalls: [{ id: "call_1", name: "get_weather", arguments: '{"city": "Paris"}' }] },
          { role: "tool", content: '{"temp": 21}', toolCallId: "call_1" },
        ],
      });
    }
  });

  it("arguments stay the text the client sent, valid JSON or not", () => {
    const broken = { ...call, function: { name: "get_weather", arguments: '{"city": "Par' } };
    const { request } = parse({ messages: history({ content: null, tool_calls: [call, { ...broken, id: "call_2" }] }) });
    const messages = request.prompt.kind === "chat" ? request.prompt.messages : [];
    expect(messages[1]?.toolCalls?.map((c) => c.arguments)).toEqual(['{"city": "Paris"}', '{"city": "Par']);
  });

  it("the history needs no tools in the request (a last turn that answers without them)", () => {
    expect(parse({ messages: history({ content: null, tool_calls: [call] }) }).request.tools).toBeNull();
  });

  for (const [name, assistant, param] of [
    ["null content without calls", { content: null }, "messages[1].content"],
    ["an empty calls list", { content: null, tool_calls: [] }, "messages[1].tool_calls"],
    ["a call with an empty id", { content: null, tool_calls: [{ ...call, id: "" }] }, "messages[1].tool_calls[0].id"],
    ["calls not an array", { content: null, tool_calls: call }, "messages[1].tool_calls"],
    ["a call without id", { content: null, tool_calls: [{ type: "function", function: call.function }] }, "messages[1].tool_calls[0].id"],
    ["a call of another type", { content: null, tool_calls: [{ ...call, type: "tool" }] }, "messages[1].tool_calls[0].type"],
    ["a call without a name", { content: null, tool_calls: [{ ...call, function: { arguments: "{}" } }] }, "messages[1].tool_calls[0].function.name"],
    ["arguments as an object", { content: null, tool_calls: [{ ...call, function: { name: "f", arguments: { city: "Paris" } } }] }, "messages[1].tool_calls[0].function.arguments"],
    ["a call with an unknown field", { content: null, tool_calls: [{ ...call, index: 0 }] }, "messages[1].tool_calls[0].index"],
  ] as const) {
    it(`${name} -> 400 on ${param}`, () => {
      expect(rejection({ ...base, messages: history(assistant) }).param).toBe(param);
    });
  }

  it("a tool message must answer a call of the latest assistant turn (as OpenAI requires)", () => {
    const two = { content: null, tool_calls: [call, { ...call, id: "call_2" }] };
    const answers = [...base.messages, { role: "assistant", ...two }, { role: "tool", tool_call_id: "call_2", content: "b" }, { role: "tool", tool_call_id: "call_1", content: "a" }];
    expect(parse({ messages: answers }).request.prompt).toMatchObject({ messages: [{}, {}, { toolCallId: "call_2" }, { toolCallId: "call_1" }] });
    for (const [messages, index] of [
      [[...base.messages, { role: "tool", tool_call_id: "call_1", content: "x" }], 1],
      [[...base.messages, { role: "assistant", ...two }, { role: "tool", tool_call_id: "call_9", content: "x" }], 2],
      [[...base.messages, { role: "assistant", ...two }, { role: "assistant", content: "done" }, { role: "tool", tool_call_id: "call_1", content: "x" }], 3],
      [[...base.messages, { role: "assistant", ...two }, { role: "tool", tool_call_id: "", content: "x" }], 2],
    ] as const) {
      expect(rejection({ ...base, messages }).param).toBe(`messages[${index}].tool_call_id`);
    }
  });

  it("an assistant message sent back with the reasoning_content the server returned", () => {
    const { request } = parse({ messages: [...base.messages, { role: "assistant", content: "4", reasoning_content: "2+2 is 4" }, { role: "user", content: "And 3+3?" }] });
    expect(request.prompt).toMatchObject({ messages: [{}, { role: "assistant", content: "4", reasoningContent: "2+2 is 4" }, {}] });
    expect(parse({ messages: [...base.messages, { role: "assistant", content: "4", reasoning_content: null }] }).request.prompt).toMatchObject({
      messages: [{}, { role: "assistant", content: "4" }],
    });
    expect(rejection({ ...base, messages: [...base.messages, { role: "assistant", content: "4", reasoning_content: 4 }] }).param).toBe("messages[1].reasoning_content");
  });

  it("custom tool calls are known but not supported", () => {
    const custom = { id: "c", type: "custom", custom: { name: "c", input: "x" } };
    const err = rejection({ ...base, messages: history({ content: null, tool_calls: [custom] }) });
    expect([err.param, err.code]).toEqual(["messages[1].tool_calls[0].type", "unsupported_parameter"]);
  });
});

describe("chat_template_kwargs", () => {
  it("passes JSON values through to the template, and {} when absent", () => {
    const kwargs = { enable_thinking: false, date_string: "26 Jul 2024", options: { depth: [1, 2, { x: null }] } };
    const { request } = parse({ chat_template_kwargs: kwargs });
    expect(request.prompt).toMatchObject({ templateKwargs: kwargs });
    expect(parse({ chat_template_kwargs: null }).request.prompt).toMatchObject({ templateKwargs: {} });
  });

  it("32 variables are accepted", () => {
    const kwargs = Object.fromEntries(Array.from({ length: 32 }, (_, i) => [`v${i}`, i]));
    expect(parse({ chat_template_kwargs: kwargs }).request.prompt).toMatchObject({ templateKwargs: kwargs });
  });

  for (const [name, kwargs, param] of [
    ["not an object", [true], "chat_template_kwargs"],
    ["a string", "enable_thinking", "chat_template_kwargs"],
    ["33 variables", Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`v${i}`, i])), "chat_template_kwargs"],
    ["a name with a dash", { "enable-thinking": true }, "chat_template_kwargs.enable-thinking"],
    ["a name starting with a digit", { "1x": true }, "chat_template_kwargs.1x"],
    ["messages", { messages: [] }, "chat_template_kwargs.messages"],
    ["tools", { tools: [] }, "chat_template_kwargs.tools"],
    ["documents", { documents: null }, "chat_template_kwargs.documents"],
    ["add_generation_prompt", { add_generation_prompt: false }, "chat_template_kwargs.add_generation_prompt"],
    ["bos_token", { bos_token: "" }, "chat_template_kwargs.bos_token"],
    ["eos_token", { eos_token: "" }, "chat_template_kwargs.eos_token"],
    ["raise_exception", { raise_exception: 1 }, "chat_template_kwargs.raise_exception"],
    // Globals the template engine declares itself: replacing one would fail every render.
    ["range", { range: 1 }, "chat_template_kwargs.range"],
    ["namespace", { namespace: {} }, "chat_template_kwargs.namespace"],
    ["None", { None: 0 }, "chat_template_kwargs.None"],
    ["true", { true: false }, "chat_template_kwargs.true"],
    ["a value nested 17 deep", { deep: JSON.parse("[".repeat(17) + "]".repeat(17)) }, "chat_template_kwargs.deep"],
  ] as const) {
    it(`${name} -> 400 on ${param}`, () => {
      expect(rejection({ ...base, chat_template_kwargs: kwargs }).param).toBe(param);
    });
  }
});
