/**
 * Structured output through the real engine: real worker threads, real ONNX
 * models, the worker's own vocabulary tables. Random schemas with random
 * seeds and temperatures on the shipped model and the random-weight fixture
 * models (byte-level BPE with an ASCII-only gap, SentencePiece, fp16 logits):
 * every value that finishes validates, and no row ever hits a dead end
 * (which would surface as a failed step, not a finish reason).
 */
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { OutputConstraint, ValidGenerationRequest } from "../../src/domain.ts";
import type { OnnxEngine } from "../../src/engine/onnx-engine.ts";
import { schemaArbitrary } from "../generation/constraint/random-schemas.ts";
import { compilesSchema, schemaValid } from "../generation/constraint/support.ts";
import { collect, greedy, introspect, nextId, startEngine, textRequest } from "../support/engine.ts";
import { fixturePath, haveFixtures, tinyChat } from "../support/fixtures.ts";
import { chatRequest } from "../support/requests.ts";


async function run(engine: OnnxEngine, request: ValidGenerationRequest) {
  const generation = await engine.start(request, { id: nextId(), signal: new AbortController().signal });
  return collect(generation.events);
}

const jsonSchema = (schema: unknown): OutputConstraint => ({ kind: "json_schema", name: "s", schema });

// [name, folder, prompt (short common words: the gpt2 fixture embeds only ids < 1000), property runs]
const models: Array<[string, string, string, number]> = [["tiny-chat", tinyChat, "Answer in JSON.", 12]];
if (haveFixtures) {
  models.push(["gpt2 fixture", fixturePath("tiny-random-gpt2-fp32"), "in the end, he was on it", 10]);
  models.push(["Llama fixture fp32", fixturePath("tiny-random-LlamaForCausalLM-fp32-reconstructed"), "he was on", 6]);
  models.push(["Llama fixture fp16", fixturePath("tiny-random-LlamaForCausalLM-fp16"), "he was on", 4]);
}

describe.each(models)("structured output on %s", (_name, folder, prompt, numRuns) => {
  let engine: OnnxEngine;
  beforeAll(async () => {
    engine = await startEngine(folder, { maxBatchSize: 8 });
  });
  afterAll(() => engine.close(0));

  it("reports that the vocabulary supports it", () => {
    expect(introspect(engine).modelInfo.structuredOutput.available).toBe(true);
  });

  it("random schemas, seeds and temperatures: every finished value validates", async () => {
    let finished = 0;
    await fc.assert(
      fc.asyncProperty(schemaArbitrary, fc.integer({ min: 0, max: 2 ** 31 - 1 }), fc.constantFrom(0, 0.7, 1.5), async (schema, seed, temperature) => {
        if (!compilesSchema(schema)) return;
        const out = await run(engine, textRequest(prompt, { constraint: jsonSchema(schema), sampling: { ...greedy, temperature, seed }, maxTokens: 120 }));
        const [text, finish] = [out.text[0] ?? "", out.finish[0]];
        expect(["stop", "length"]).toContain(finish);
        if (finish !== "stop") return;
        finished++;
        expect(schemaValid(schema, JSON.parse(text)), `${text} against ${JSON.stringify(schema)}`).toBe(true);
      }),
      { numRuns },
    );
    expect(finished).toBeGreaterThan(0);
  });

  it("json_object: a JSON object", async () => {
    const out = await run(engine, textRequest(prompt, { constraint: { kind: "json_object" }, sampling: { ...greedy, temperature: 1, seed: 7 }, maxTokens: 120 }));
    if (out.finish[0] === "stop") expect(JSON.parse(out.text[0] ?? "")).toBeTypeOf("object");
    else expect(out.finish[0]).toBe("length");
  });
});

describe("structured output with the other generation parameters (tiny-chat)", () => {
  let engine: OnnxEngine;
  beforeAll(async () => {
    engine = await startEngine(tinyChat, { maxBatchSize: 8 });
  });
  afterAll(() => engine.close(0));

  const person = {
    type: "object",
    properties: { name: { type: "string", maxLength: 8 }, age: { type: "integer", minimum: 0, maximum: 99 }, pet: { enum: ["cat", "dog", null] } },
    required: ["name", "age", "pet"],
    additionalProperties: false,
  };

  it("n > 1 with a seed: each choice valid, the whole answer reproducible", async () => {
    const request = chatRequest("Describe a person.", { constraint: jsonSchema(person), sampling: { ...greedy, temperature: 1.2, seed: 11 }, n: 3, maxTokens: 80 });
    const first = await run(engine, request);
    const second = await run(engine, request);
    expect(second.text).toEqual(first.text);
    expect(first.finish).toEqual(["stop", "stop", "stop"]);
    for (const text of first.text) expect(schemaValid(person, JSON.parse(text))).toBe(true);
  });

  it("logprobs describe the allowed tokens only: a forced token has probability 1 and no alternatives", async () => {
    const out = await run(engine, chatRequest("Yes or no?", { constraint: jsonSchema({ enum: ["yes", "no"] }), logprobs: 5, maxTokens: 10 }));
    const logprobs = out.events.flatMap((e) => (e.type === "delta" && e.logprobs ? e.logprobs : []));
    // The first byte of either value is a quote: nothing else is allowed.
    expect(logprobs[0]?.token).toBe('"');
    expect(logprobs[0]?.logprob).toBeCloseTo(0, 6);
    expect(logprobs[0]?.top.map((t) => t.token)).toEqual(['"']);
    expect(["\"yes\"", '"no"']).toContain(out.text[0]);
  });

  it("a value cut by max_tokens ends with finish_reason length", async () => {
    const out = await run(engine, chatRequest("Describe a person.", { constraint: jsonSchema(person), maxTokens: 4 }));
    expect(out.finish[0]).toBe("length");
    expect(() => JSON.parse(out.text[0] ?? "")).toThrow();
    expect(out.text[0]?.startsWith("{")).toBe(true);
  });

  it("constrained rows do not change their unconstrained neighbours' answers", async () => {
    const free = chatRequest("What is 12+7?", { maxTokens: 24 });
    const alone = await run(engine, free);
    const constrained = Array.from({ length: 3 }, (_, i) =>
      run(engine, chatRequest("Describe a person.", { constraint: jsonSchema(person), sampling: { ...greedy, temperature: 1, seed: i }, maxTokens: 80 })),
    );
    const [together, ...others] = await Promise.all([run(engine, free), ...constrained]);
    expect(together.text).toEqual(alone.text);
    for (const o of others) expect(o.finish[0]).toBe("stop");
  });
});
