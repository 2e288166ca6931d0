/**
 * Batching never changes answers: a request's greedy text is the same alone
 * and among 15 others of different lengths, arriving at different times,
 * and a row cancelled mid-batch leaves its neighbours untouched.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { OnnxEngine } from "../../src/engine/onnx-engine.ts";
import { collect, introspect, nextId, startEngine, textRequest } from "../support/engine.ts";
import { fixturePath, haveFixtures } from "../support/fixtures.ts";

const WORDS = ["in", "the", "end", "he", "was", "on", "it", "a", "man", "of", "some", "time"];
const prompts = Array.from({ length: 16 }, (_, i) => WORDS.slice(0, 1 + (i % WORDS.length)).join(" ") + (i >= 12 ? " again" : ""));

async function generate(engine: OnnxEngine, prompt: string, maxTokens: number): Promise<string> {
  const g = await engine.start(textRequest(prompt, { maxTokens }), { id: nextId(), signal: new AbortController().signal });
  const out = await collect(g.events);
  return out.text[0] ?? "";
}

const MODELS = [
  "tiny-random-gpt2-fp32",
  "tiny-random-LlamaForCausalLM-fp32-reconstructed",
  "tiny-random-LlamaForCausalLM-fp16",
  "tiny-graph-capture-gqa-fp16",
];

describe.skipIf(!haveFixtures)("continuous batching gives the answers of batch 1", () => {
  // prefillChunk 4: long prompts prefilled in chunks; 512: prompts arriving together prefilled as one padded batch.
  for (const [model, prefillChunk] of MODELS.flatMap((m) => [[m, 4], [m, 512]] as const)) {
    describe(`${model}, prefill chunk ${prefillChunk}`, () => {
      let engine: OnnxEngine;
      beforeAll(async () => {
        engine = await startEngine(fixturePath(model), { maxBatchSize: 16, prefillChunk });
      });
      afterAll(() => engine.close(0));

      it("16 concurrent requests of different lengths, staggered arrivals", async () => {
        expect(introspect(engine).modelInfo.batchPlacement).not.toBeNull();
        const alone: string[] = [];
        for (const [i, p] of prompts.entries()) alone.push(await generate(engine, p, 12 + i));
        const together = await Promise.all(
          prompts.map(async (p, i) => {
            // Half arrive while the others are already decoding.
            if (i % 2 === 1) await new Promise((r) => setImmediate(r));
            return generate(engine, p, 12 + i);
          }),
        );
        expect(together).toEqual(alone);
      });

      it("a cancelled row leaves at the next step without disturbing its neighbours", async () => {
        const solo = await Promise.all([generate(engine, prompts[3]!, 30), generate(engine, prompts[9]!, 30)]);
        const victimId = nextId();
        const victim = await engine.start(textRequest(prompts[5]!, { maxTokens: 200 }), { id: victimId, signal: new AbortController().signal });
        const neighbours = Promise.all([generate(engine, prompts[3]!, 30), generate(engine, prompts[9]!, 30)]);
        let deltas = 0;
        for await (const e of victim.events) {
          if (e.type === "delta" && ++deltas === 2) engine.cancel(victimId);
          if (e.type === "finish") expect(e.finishReason).toBe("cancelled");
        }
        expect(await neighbours).toEqual(solo);
      });
    });
  }
});
