/**
 * Forced tool calls: the call grammar accepts the calls a model writes in
 * its own syntax (canonical or compact), with arguments valid against the
 * function's parameters, and nothing else; every completed walk through it
 * is a call the parser reads back, with schema-valid arguments.
 */
import fc from "fast-check";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { ToolCallLayout } from "../../../src/domain.ts";
import { layoutOf } from "../../../src/engine/tool-decoding.ts";
import { CompiledConstraint, RowConstraint } from "../../../src/generation/constraint/row-constraint.ts";
import { DEFAULT_COMPILE_OPTIONS } from "../../../src/generation/constraint/schema-compiler.ts";
import { SchemaError } from "../../../src/generation/constraint/schema-error.ts";
import { tokenBytesFromTokenizerJson } from "../../../src/generation/constraint/token-bytes.ts";
import { isAllowed } from "../../../src/generation/constraint/token-mask.ts";
import { TokenTrie } from "../../../src/generation/constraint/token-trie.ts";
import { compileToolCalls } from "../../../src/generation/constraint/tool-call-grammar.ts";
import { parseToolCalls } from "../../../src/generation/tools/parse-tool-calls.ts";
import { TOOL_CALL_SYNTAX, type ToolCallFormat } from "../../../src/generation/tools/tool-call-format.ts";
import { tinyChat } from "../../support/fixtures.ts";
import { schemaArbitrary } from "./random-schemas.ts";
import { grammarAccepts, schemaValid, seededRandom } from "./support.ts";

const weather = { name: "get_weather", parameters: { type: "object", properties: { city: { type: "string", maxLength: 12 } }, required: ["city"], additionalProperties: false } };
const clock = { name: "get_time", parameters: { type: "object", properties: {} } };
const layout = (format: ToolCallFormat): ToolCallLayout => layoutOf(TOOL_CALL_SYNTAX[format]);
const grammar = (format: ToolCallFormat, parallel: boolean, bodyOnly = false) =>
  compileToolCalls({ layout: layout(format), functions: [weather, clock], parallel, bodyOnly }, DEFAULT_COMPILE_OPTIONS);

describe("the tool-call grammar", () => {
  it("Hermes: canonical and compact calls, one or several; nothing else", () => {
    const one = grammar("hermes", false);
    expect(grammarAccepts(one, '<tool_call>\n{"name": "get_weather", "arguments": {"city":"Oslo"}}\n</tool_call>')).toBe(true);
    expect(grammarAccepts(one, '<tool_call>{"name":"get_time","arguments":{}}</tool_call>')).toBe(true);
    expect(grammarAccepts(one, '<tool_call>{"name":"get_weather","arguments":{}}</tool_call>')).toBe(false);
    expect(grammarAccepts(one, '<tool_call>{"name":"get_news","arguments":{}}</tool_call>')).toBe(false);
    expect(grammarAccepts(one, 'Sure! <tool_call>{"name":"get_time","arguments":{}}</tool_call>')).toBe(false);
    const two = '<tool_call>{"name":"get_time","arguments":{}}</tool_call>\n<tool_call>{"name":"get_weather","arguments":{"city":"Rome"}}</tool_call>';
    expect(grammarAccepts(one, two)).toBe(false);
    expect(grammarAccepts(grammar("hermes", true), two)).toBe(true);
  });

  it("arguments as json.dumps writes them (a space after ':' and ','), compact, but not other whitespace", () => {
    const hermes = grammar("hermes", false);
    const nested = compileToolCalls(
      { layout: layout("hermes"), functions: [{ name: "plan", parameters: { type: "object", properties: { stops: { type: "array", items: { type: "string" } }, extra: { type: "object" } } } }], parallel: false, bodyOnly: false },
      DEFAULT_COMPILE_OPTIONS,
    );
    expect(grammarAccepts(hermes, '<tool_call>{"name": "get_weather", "arguments": {"city": "Oslo"}}</tool_call>')).toBe(true);
    expect(grammarAccepts(nested, '<tool_call>{"name": "plan", "arguments": {"stops": ["Oslo", "Rome"], "extra": {"a": [1, {"b": null}]}}}</tool_call>')).toBe(true);
    expect(grammarAccepts(nested, '<tool_call>{"name":"plan","arguments":{"stops":["Oslo","Rome"],"extra":{"a":[1,{"b":null}]}}}</tool_call>')).toBe(true);
    expect(grammarAccepts(hermes, '<tool_call>{"name": "get_weather", "arguments": {"city":  "Oslo"}}</tool_call>')).toBe(false);
    expect(grammarAccepts(hermes, '<tool_call>{"name": "get_weather", "arguments": { "city": "Oslo"}}</tool_call>')).toBe(false);
  });

  it("the body after an opening marker (tool_choice auto)", () => {
    const body = grammar("hermes", false, true);
    expect(grammarAccepts(body, '\n{"name": "get_weather", "arguments": {"city":"Oslo"}}\n</tool_call>')).toBe(true);
    expect(grammarAccepts(body, '<tool_call>{"name":"get_time","arguments":{}}</tool_call>')).toBe(false);
  });

  it("Mistral after [TOOL_CALLS] (tool_choice auto): the array of calls, with or without a space before it", () => {
    const mistral = TOOL_CALL_SYNTAX.mistral;
    const afterMarker = (parallel: boolean) =>
      compileToolCalls({ layout: { ...layout("mistral"), before: "[" }, functions: [weather, clock], parallel, bodyOnly: true }, DEFAULT_COMPILE_OPTIONS);
    expect(mistral.openMarker).toBe("[TOOL_CALLS]");
    expect(grammarAccepts(afterMarker(false), ' [{"name": "get_weather", "arguments": {"city": "Oslo"}}]')).toBe(true);
    expect(grammarAccepts(afterMarker(false), '[{"name":"get_time","arguments":{}}]')).toBe(true);
    expect(grammarAccepts(afterMarker(false), '[{"name":"get_time","arguments":{}}, {"name":"get_time","arguments":{}}]')).toBe(false);
    expect(grammarAccepts(afterMarker(true), '[{"name":"get_time","arguments":{}}, {"name":"get_time","arguments":{}}]')).toBe(true);
    expect(grammarAccepts(afterMarker(false), '{"name":"get_time","arguments":{}}')).toBe(false);
  });

  it("Mistral's array and Llama 3's bare objects", () => {
    expect(grammarAccepts(grammar("mistral", true), '[TOOL_CALLS] [{"name": "get_time", "arguments": {}}, {"name": "get_weather", "arguments": {"city":"Oslo"}}]')).toBe(true);
    expect(grammarAccepts(grammar("llama3-json", false), '{"name": "get_weather", "parameters": {"city":"Oslo"}}')).toBe(true);
    expect(grammarAccepts(grammar("llama3-json", false), '{"name": "get_weather", "arguments": {"city":"Oslo"}}')).toBe(false);
  });

  it("refuses a parameters schema it cannot guarantee, naming the function's index and the keyword", () => {
    try {
      compileToolCalls({ layout: layout("hermes"), functions: [weather, { name: "bad", parameters: { type: "object", properties: { n: { type: "integer", multipleOf: 2 } } } }], parallel: false, bodyOnly: false }, DEFAULT_COMPILE_OPTIONS);
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(SchemaError);
      expect((error as SchemaError).path).toEqual([1, "properties", "n", "multipleOf"]);
    }
  });
});

describe("forced calls walked over tiny-chat's vocabulary", () => {
  const result = tokenBytesFromTokenizerJson(JSON.parse(readFileSync(join(tinyChat, "tokenizer.json"), "utf8")), 414);
  if (!result.ok) throw new Error(result.reason);
  const bytes = result.table.bytes.slice();
  for (const id of [411, 413]) bytes[id] = null;
  const table = { bytes, singleByte: result.table.singleByte };
  const vocabulary = { table, trie: TokenTrie.build(table), vocabSize: 414, eosIds: [413] };

  const objectSchema = schemaArbitrary.filter((s) => typeof s === "object" && s !== null && (s as { type?: unknown }).type === "object");

  it.each(["hermes", "mistral", "llama3-json"] as const)("%s: every completed output parses to calls whose arguments validate", (format) => {
    let completed = 0;
    fc.assert(
      fc.property(objectSchema, fc.boolean(), fc.integer(), (parameters, parallel, seed) => {
        const functions = [{ name: "f_one", parameters }, { name: "f_two", parameters: weather.parameters }];
        let compiled: CompiledConstraint;
        try {
          compiled = new CompiledConstraint(compileToolCalls({ layout: layout(format), functions, parallel, bodyOnly: false }, DEFAULT_COMPILE_OPTIONS), vocabulary);
        } catch (error) {
          if (error instanceof SchemaError) return;
          throw error;
        }
        const text = walk(compiled, seed);
        if (text === null) return;
        completed++;
        const parsed = parseToolCalls(format, text, { tools: ["f_one", "f_two"], parallel: true, idFor: (i) => `call_${i}` });
        expect(parsed.content, text).toBe("");
        expect(parsed.toolCalls.length).toBeGreaterThan(0);
        if (!parallel) expect(parsed.toolCalls.length).toBe(1);
        for (const call of parsed.toolCalls) {
          const schema = functions.find((f) => f.name === call.name)?.parameters;
          expect(schemaValid(schema, JSON.parse(call.arguments)), `${call.arguments} against ${JSON.stringify(schema)}`).toBe(true);
        }
      }),
      { numRuns: 40 },
    );
    expect(completed).toBeGreaterThan(10);
  });

  /** Uniform draws from the mask until the calls are complete (EOS when allowed, half the time). */
  function walk(compiled: CompiledConstraint, seed: number): string | null {
    const row = new RowConstraint(compiled);
    const random = seededRandom(seed);
    const out: number[] = [];
    for (let step = 0; step < 500; step++) {
      const mask = row.mask();
      const allowed: number[] = [];
      for (let id = 0; id < 414; id++) if (isAllowed(mask, id)) allowed.push(id);
      if (allowed.length === 0) expect.fail(`a dead end after ${new TextDecoder().decode(Uint8Array.from(out))}`);
      const token = allowed.includes(413) && random() < 0.5 ? 413 : allowed[Math.floor(random() * allowed.length)];
      row.advance(token);
      if (token === 413) break;
      out.push(...(table.bytes[token] as Uint8Array));
      if (row.complete) break;
      if (step === 499) return null;
    }
    return new TextDecoder().decode(Uint8Array.from(out));
  }
});
