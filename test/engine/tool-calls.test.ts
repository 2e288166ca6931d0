/**
 * Tool calls through the real engine (real worker threads, tiny-chat):
 * forced calls (tool_choice required or a named function) are always
 * calls whose arguments validate, whatever the seed; a stream's pieces
 * reassemble to the same calls; "none" never returns calls.
 */
import fc from "fast-check";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ToolCall, ToolChoice, ToolSettings, ValidGenerationRequest } from "../../src/domain.ts";
import type { OnnxEngine } from "../../src/engine/onnx-engine.ts";
import { schemaArbitrary } from "../generation/constraint/random-schemas.ts";
import { compilesSchema, schemaValid } from "../generation/constraint/support.ts";
import { collect, greedy, nextId, startEngine, textRequest } from "../support/engine.ts";
import { fixturePath, haveFixtures, tinyChat } from "../support/fixtures.ts";
import { chatRequest } from "../support/requests.ts";

const weather = {
  name: "get_weather",
  parameters: { type: "object", properties: { city: { type: "string", maxLength: 10 }, unit: { enum: ["c", "f"] } }, required: ["city"], additionalProperties: false },
};
const sum = {
  name: "add",
  parameters: { type: "object", properties: { a: { type: "integer", minimum: 0, maximum: 99 }, b: { type: "integer", minimum: 0, maximum: 99 } }, required: ["a", "b"], additionalProperties: false },
};

function withTools(choice: ToolChoice, overrides: Partial<ValidGenerationRequest> = {}): ValidGenerationRequest {
  return chatRequest("What is the weather in Oslo?", { tools: { tools: [weather, sum], choice, parallel: true }, maxTokens: 120, ...overrides });
}

interface Answer {
  content: string;
  calls: ToolCall[];
  finish: string;
}

async function answer(engine: OnnxEngine, request: ValidGenerationRequest): Promise<Answer> {
  const generation = await engine.start(request, { id: nextId(), signal: new AbortController().signal });
  const out = await collect(generation.events);
  const calls: ToolCall[] = [];
  let content = "";
  for (const e of out.events) {
    if (e.type !== "delta") continue;
    content += e.text;
    for (const piece of e.toolCalls ?? []) {
      if (piece.id !== undefined && piece.name !== undefined) calls[piece.index] = { id: piece.id, name: piece.name, arguments: piece.arguments };
      else calls[piece.index].arguments += piece.arguments;
    }
  }
  return { content, calls, finish: out.finish[0] ?? "" };
}

const schemaOf = (name: string): unknown => [weather, sum].find((f) => f.name === name)?.parameters;

describe("tool calls on tiny-chat", () => {
  let engine: OnnxEngine;
  beforeAll(async () => {
    engine = await startEngine(tinyChat, { maxBatchSize: 8 });
  });
  afterAll(() => engine.close(0));

  it("required: every seed gives a call to an offered function with valid arguments, and finish_reason tool_calls", async () => {
    // One call per turn: with parallel calls an untrained model may go on adding calls up to max_tokens.
    for (let seed = 1; seed <= 6; seed++) {
      const request = withTools({ kind: "required" }, { sampling: { ...greedy, temperature: 1.3, seed } });
      const a = await answer(engine, { ...request, tools: request.tools && { ...request.tools, parallel: false } });
      expect(a.finish).toBe("tool_calls");
      expect(a.content).toBe("");
      expect(a.calls.length).toBeGreaterThan(0);
      for (const call of a.calls) {
        expect(call.id).toMatch(/^call_[A-Za-z0-9]{24}$/);
        expect(schemaValid(schemaOf(call.name), JSON.parse(call.arguments)), call.arguments).toBe(true);
      }
    }
  });

  it("a named function: exactly one call, to that function", async () => {
    for (let seed = 1; seed <= 4; seed++) {
      const a = await answer(engine, withTools({ kind: "function", name: "add" }, { sampling: { ...greedy, temperature: 1, seed } }));
      expect(a.calls.map((c) => c.name)).toEqual(["add"]);
      expect(schemaValid(sum.parameters, JSON.parse(a.calls[0].arguments))).toBe(true);
    }
  });

  it("none: never a call, even when the model writes call syntax", async () => {
    const a = await answer(engine, withTools({ kind: "none" }, { sampling: greedy, maxTokens: 40 }));
    expect(a.calls).toEqual([]);
    expect(a.finish).not.toBe("tool_calls");
  });

  it("the same request twice with a seed gives the same calls (ids aside)", async () => {
    const request = withTools({ kind: "required" }, { sampling: { ...greedy, temperature: 1, seed: 9 } });
    const [first, second] = [await answer(engine, request), await answer(engine, request)];
    expect(second.calls.map(({ name, arguments: args }) => [name, args])).toEqual(first.calls.map(({ name, arguments: args }) => [name, args]));
  });
});

describe("tool calls on tiny-chat, served with --tool-call-format mistral", () => {
  let engine: OnnxEngine;
  beforeAll(async () => {
    engine = await startEngine(tinyChat, { toolCallFormat: "mistral" });
  });
  afterAll(() => engine.close(0));

  it("a forced call in Mistral's syntax, with the 9-character id Mistral's templates require in the history", async () => {
    const a = await answer(engine, withTools({ kind: "function", name: "add" }, { sampling: { ...greedy, temperature: 1, seed: 3 } }));
    expect(a.finish).toBe("tool_calls");
    expect(a.calls.map((c) => c.name)).toEqual(["add"]);
    expect(a.calls[0].id).toMatch(/^[A-Za-z0-9]{9}$/);
    expect(schemaValid(sum.parameters, JSON.parse(a.calls[0].arguments))).toBe(true);
  });
});

/**
 * A tokenizer whose call marker is a special token (Mistral's [TOOL_CALLS],
 * Llama 3.1's <|python_tag|>, <tool_call> in some Hermes tokenizers): a
 * copy of tiny-chat whose <|endoftext|> (411, no longer an EOS) is that
 * special token. Text skips special tokens, so without keeping the marker
 * the parser would never see the call, nor the auto trigger constrain it.
 */
// Hermes with parallel calls would call again and again under the bias (each call is one marker); Mistral's array holds every call of the turn and ends the row.
// The last case: an added token not marked special but listed in additional_special_tokens, which decoding skips all the same.
describe.each([
  ["hermes", "<tool_call>", /^call_[A-Za-z0-9]{24}$/, [false], "special"],
  ["mistral", "[TOOL_CALLS]", /^[A-Za-z0-9]{9}$/, [false, true], "special"],
  ["hermes", "<tool_call>", /^call_[A-Za-z0-9]{24}$/, [false], "listed"],
] as const)("a %s call marker that is a special token (%s, %s)", (format, marker, idPattern, parallelModes, how) => {
  let dir: string;
  let engine: OnnxEngine;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "special-marker-"));
    cpSync(tinyChat, dir, { recursive: true });
    const edit = (name: string, change: (json: Record<string, unknown>) => void) => {
      const json = JSON.parse(readFileSync(join(dir, name), "utf8")) as Record<string, unknown>;
      change(json);
      writeFileSync(join(dir, name), JSON.stringify(json));
    };
    edit("tokenizer.json", (j) => Object.assign((j.added_tokens as Array<Record<string, unknown>>)[0], { content: marker, special: how === "special" }));
    edit("tokenizer_config.json", (j) => {
      Object.assign((j.added_tokens_decoder as Record<string, Record<string, unknown>>)["411"], { content: marker, special: how === "special" });
      j.pad_token = "<|im_end|>";
      if (how === "listed") j.additional_special_tokens = [...(j.additional_special_tokens as string[]), marker];
    });
    for (const name of ["config.json", "generation_config.json"]) edit(name, (j) => Object.assign(j, { eos_token_id: [413], pad_token_id: 413 }));
    engine = await startEngine(dir, { toolCallFormat: format });
  });
  afterAll(async () => {
    await engine?.close(0);
    rmSync(dir, { recursive: true, force: true });
  });

  it("auto: the special marker opens a call that is constrained, parsed and returned", async () => {
    // The bias makes the model open a call at once; after the marker the mask rules (the marker has no bytes there).
    for (const parallel of parallelModes) {
      const request = withTools({ kind: "auto" }, { sampling: { ...greedy, logitBias: [[411, 100]] }, maxTokens: 200 });
      const a = await answer(engine, { ...request, tools: request.tools && { ...request.tools, parallel } });
      expect(a.finish).toBe("tool_calls");
      expect(a.content).toBe("");
      expect(a.calls.length).toBeGreaterThan(0);
      if (!parallel) expect(a.calls).toHaveLength(1);
      for (const call of a.calls) {
        expect(call.id).toMatch(idPattern);
        expect(schemaValid(schemaOf(call.name), JSON.parse(call.arguments)), call.arguments).toBe(true);
      }
    }
  });

  it("the marker stays hidden from rows that read no calls", async () => {
    const a = await answer(engine, chatRequest("Hi", { sampling: { ...greedy, logitBias: [[411, 100]] }, maxTokens: 3 }));
    expect(a.content).toBe("");
  });
});

/**
 * Random-weight fixture models (their random logits explore the grammar far
 * more than a trained model) with random parameters schemas and seeds:
 * forced calls always parse to offered functions with valid arguments.
 */
describe.each(fixtureModels())("forced calls on %s", (_name, folder, prompt) => {
  let engine: OnnxEngine;
  beforeAll(async () => {
    engine = await startEngine(folder, { maxBatchSize: 8 });
  });
  afterAll(() => engine.close(0));

  it("random parameters schemas, seeds and temperatures", async () => {
    let checked = 0;
    await fc.assert(
      fc.asyncProperty(objectSchemas, fc.integer({ min: 0, max: 2 ** 31 - 1 }), fc.constantFrom(0, 0.8, 1.5), async (parameters, seed, temperature) => {
        if (!compilesSchema(parameters)) return;
        const tools = { tools: [{ name: "f_random", parameters }, weather], choice: { kind: "required" } as const, parallel: false };
        const a = await answer(engine, textRequestWithTools(prompt, tools, { sampling: { ...greedy, temperature, seed }, maxTokens: 200 }));
        if (a.finish === "length") return;
        checked++;
        expect(a.finish).toBe("tool_calls");
        expect(a.calls).toHaveLength(1);
        const schema = a.calls[0].name === "f_random" ? parameters : weather.parameters;
        expect(schemaValid(schema, JSON.parse(a.calls[0].arguments)), `${a.calls[0].arguments} against ${JSON.stringify(schema)}`).toBe(true);
      }),
      { numRuns: 8 },
    );
    expect(checked).toBeGreaterThan(0);
  });
});

function fixtureModels(): Array<[string, string, string]> {
  if (!haveFixtures) return [];
  return [
    ["the gpt2 fixture", fixturePath("tiny-random-gpt2-fp32"), "in the end, he was on it"],
    ["the Llama fixture", fixturePath("tiny-random-LlamaForCausalLM-fp32-reconstructed"), "he was on"],
  ];
}

const objectSchemas = schemaArbitrary.filter((s) => typeof s === "object" && s !== null && (s as { type?: unknown }).type === "object");


/** The fixtures have no chat template: a text prompt, with the tools steering decoding only. */
function textRequestWithTools(prompt: string, tools: ToolSettings, overrides: Partial<ValidGenerationRequest>): ValidGenerationRequest {
  return textRequest(prompt, { tools, ...overrides });
}
