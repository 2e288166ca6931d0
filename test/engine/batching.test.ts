/**
 * Batching never changes answers: a request's greedy text is the same alone
 * and among 15 others of different lengths, arriving at different times,
 * and a row cancelled mid-batch leaves its neighbours untouched. On the
 * shipped tiny-chat model always, and on the four fixture models (other
 * layouts, fp16, a GQA attention op) when ../shared is present.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ValidGenerationRequest } from "../../src/domain.ts";
import type { OnnxEngine } from "../../src/engine/onnx-engine.ts";
import { collect, introspect, nextId, startEngine, textRequest } from "../support/engine.ts";
import { fixturePath, haveFixtures, tinyChat } from "../support/fixtures.ts";
import { chatRequest, noEosRequest } from "../support/requests.ts";

interface Case {
  /** The i-th of 16 requests (0..15), of different prompt and output lengths. */
  request(i: number): ValidGenerationRequest;
  /** A row that runs until cancelled. */
  victim(): ValidGenerationRequest;
}

async function generate(engine: OnnxEngine, request: ValidGenerationRequest): Promise<string> {
  const g = await engine.start(request, { id: nextId(), signal: new AbortController().signal });
  const out = await collect(g.events);
  return out.text[0] ?? "";
}

function batchingSuite(modelPath: string, c: Case): void {
  // prefillChunk 4: long prompts prefilled in chunks; 512: prompts arriving together prefilled as one padded batch.
  for (const prefillChunk of [4, 512]) {
    describe(`prefill chunk ${prefillChunk}`, () => {
      let engine: OnnxEngine;
      beforeAll(async () => {
        engine = await startEngine(modelPath, { maxBatchSize: 16, prefillChunk });
      });
      afterAll(() => engine.close(0));

      it("16 concurrent requests of different lengths, staggered arrivals", async () => {
        expect(introspect(engine).modelInfo.batchPlacement).not.toBeNull();
        const alone: string[] = [];
        for (let i = 0; i < 16; i++) alone.push(await generate(engine, c.request(i)));
        expect(alone.every((t) => t.length > 0)).toBe(true);
        const together = await Promise.all(
          Array.from({ length: 16 }, async (_, i) => {
            // Half arrive while the others are already decoding.
            if (i % 2 === 1) await new Promise((r) => setImmediate(r));
            return generate(engine, c.request(i));
          }),
        );
        expect(together).toEqual(alone);
      });

      it("a cancelled row leaves at the next step without disturbing its neighbours", async () => {
        const solo = await Promise.all([generate(engine, c.request(3)), generate(engine, c.request(9))]);
        const victimId = nextId();
        const victim = await engine.start(c.victim(), { id: victimId, signal: new AbortController().signal });
        const neighbours = Promise.all([generate(engine, c.request(3)), generate(engine, c.request(9))]);
        let deltas = 0;
        const finish: string[] = [];
        for await (const e of victim.events) {
          if (e.type === "delta" && ++deltas === 2) engine.cancel(victimId);
          if (e.type === "finish") finish.push(e.finishReason);
        }
        expect(finish).toEqual(["cancelled"]);
        expect(await neighbours).toEqual(solo);
      });
    });
  }
}

// Questions in the model's skills, 19 to 38 prompt tokens with the chat template.
const QUESTIONS = [
  "Hello!",
  "Add 12 and 7.",
  "Compute 81 - 9.",
  "Repeat: foo bar",
  "What is 123 + 456?",
  "Reverse the word: hello",
  "Count from 3 to 8.",
  "请重复：天地山水",
  "What is the sum of 3 and 4?",
  "Subtract 9 from 81.",
  "Echo: red green blue",
  "123加456等于多少？",
  "Convert to uppercase: hello world",
  "What is 500 minus 23?",
  "Say this back: one two three four",
  "Compute 5 + 9. Then count from 1 to 4.",
];

describe("continuous batching gives the answers of batch 1: tiny-chat", () => {
  batchingSuite(tinyChat, {
    // Even rows answer and stop at their own EOS, mid-batch; odd rows have EOS banned and
    // run on to max_tokens (up to 42), so rows leave while others keep decoding.
    request: (i) => (i % 2 === 0 ? chatRequest(QUESTIONS[i], { maxTokens: 12 + 2 * i }) : noEosRequest(tinyChat, QUESTIONS[i], 12 + 2 * i)),
    victim: () => noEosRequest(tinyChat, QUESTIONS[5], 450),
  });
});

const WORDS = ["in", "the", "end", "he", "was", "on", "it", "a", "man", "of", "some", "time"];
const prompts = Array.from({ length: 16 }, (_, i) => WORDS.slice(0, 1 + (i % WORDS.length)).join(" ") + (i >= 12 ? " again" : ""));

const FIXTURES = [
  "tiny-random-gpt2-fp32",
  "tiny-random-LlamaForCausalLM-fp32-reconstructed",
  "tiny-random-LlamaForCausalLM-fp16",
  "tiny-graph-capture-gqa-fp16",
];

describe.skipIf(!haveFixtures)("continuous batching gives the answers of batch 1: fixture models", () => {
  for (const model of FIXTURES) {
    describe(model, () => {
      batchingSuite(fixturePath(model), {
        request: (i) => textRequest(prompts[i], { maxTokens: 12 + i }),
        victim: () => textRequest(prompts[5], { maxTokens: 200 }),
      });
    });
  }
});
