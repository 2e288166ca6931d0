/**
 * The golden greedy ids and logits of ../shared/fixtures/models/README.md,
 * produced by the server's own forward path (ModelRunner: feeds built from
 * session metadata, KV cache carried between steps), and the same ids
 * through the whole engine as text.
 */
import { afterAll, describe, expect, it } from "vitest";
import { loadModelFolder } from "../../src/model/model-folder.ts";
import { loadTokenizer } from "../../src/model/tokenizer.ts";
import { ModelRunner } from "../../src/worker/model-runner.ts";
import { argmax } from "../../src/generation/sampler.ts";
import { collect, nextId, startEngine, textRequest } from "../support/engine.ts";
import { fixturePath, haveFixtures } from "../support/fixtures.ts";
import type { OnnxEngine } from "../../src/engine/onnx-engine.ts";

const PROMPT = "in the end, he was on it";
const LLAMA_IDS = [10013, 8002, 12090, 28535, 5663, 11334, 6504, 22969, 21742, 13486, 13934, 26715, 23287, 18902, 27402, 5529, 28649, 18022, 5910, 12032];

interface Golden {
  name: string;
  promptIds: number[];
  ids: number[];
  prefillTop5: Array<[number, number]>;
  tolerance: number;
  step1Top5?: Array<[number, number]>;
}

const goldens: Golden[] = [
  {
    name: "tiny-random-gpt2-fp32",
    promptIds: [259, 262, 886, 11, 339, 373, 319, 340],
    ids: Array(20).fill(718),
    prefillTop5: [[718, 0.39958], [41, 0.34046], [340, 0.32852], [67, 0.32548], [490, 0.32038]],
    step1Top5: [[718, 0.62024], [438, 0.32386], [734, 0.31109], [371, 0.30751], [195, 0.29525]],
    tolerance: 1e-4,
  },
  {
    name: "tiny-random-LlamaForCausalLM-fp16",
    promptIds: [1, 297, 278, 1095, 29892, 540, 471, 373, 372],
    ids: LLAMA_IDS,
    prefillTop5: [[10013, 0.35449], [21966, 0.31006], [13253, 0.30957], [26126, 0.30127], [11195, 0.28638]],
    tolerance: 2e-3,
  },
  {
    name: "tiny-random-LlamaForCausalLM-fp32-reconstructed",
    promptIds: [1, 297, 278, 1095, 29892, 540, 471, 373, 372],
    ids: LLAMA_IDS,
    prefillTop5: [[10013, 0.35444], [21966, 0.31008], [13253, 0.3096], [26126, 0.30131], [11195, 0.28642]],
    step1Top5: [[8002, 0.32629], [30679, 0.30791], [28630, 0.29913], [23749, 0.2975], [2522, 0.29495]],
    tolerance: 1e-4,
  },
  {
    name: "tiny-graph-capture-gqa-fp16",
    promptIds: [...Buffer.from(PROMPT)],
    ids: [130, 110, 137, 56, 204, 53, 218, 23, 184, 221, 14, 34, 49, 239, 220, 227, 82, 116, 130, 110],
    prefillTop5: [[130, 0.00719], [27, 0.00709], [247, 0.00702], [224, 0.00696], [6, 0.00639]],
    tolerance: 2e-5,
  },
];

function top5(logits: Float32Array): Array<[number, number]> {
  return [...logits.keys()].sort((a, b) => logits[b] - logits[a]).slice(0, 5).map((i) => [i, logits[i]]);
}

function expectTop5(actual: Array<[number, number]>, expected: Array<[number, number]>, tolerance: number): void {
  expect(actual.map(([id]) => id)).toEqual(expected.map(([id]) => id));
  actual.forEach(([, v], i) => expect(Math.abs(v - expected[i][1])).toBeLessThanOrEqual(tolerance));
}

describe.skipIf(!haveFixtures)("fixture models: golden greedy ids through the engine's forward path", () => {
  for (const g of goldens) {
    it(`${g.name}: tokenizer, cached greedy ids and logits`, async () => {
      const folder = loadModelFolder(fixturePath(g.name));
      const tokenizer = loadTokenizer(folder);
      expect(tokenizer.plain.encode(PROMPT).ids).toEqual(g.promptIds);
      const runner = await ModelRunner.create(folder, { device: "cpu", threads: 1 });
      const kv = runner.emptyKv();
      let logits = await runner.forward(kv, g.promptIds);
      expectTop5(top5(logits), g.prefillTop5, g.tolerance);
      const ids: number[] = [];
      for (let step = 0; step < 20; step++) {
        const id = argmax(logits);
        ids.push(id);
        logits = await runner.forward(kv, [id]);
        if (step === 0 && g.step1Top5) expectTop5(top5(logits), g.step1Top5, g.tolerance);
      }
      expect(ids).toEqual(g.ids);
      expect(kv.length).toBe(g.promptIds.length + 20);
      await runner.release();
    });
  }

  describe("through the whole engine (worker thread, scheduler, detokenizer)", () => {
    const engines: OnnxEngine[] = [];
    afterAll(async () => {
      await Promise.all(engines.map((e) => e.close(0)));
    });
    for (const g of goldens) {
      it(`${g.name}: the streamed text is the golden ids decoded after the prompt`, async () => {
        const engine = await startEngine(fixturePath(g.name));
        engines.push(engine);
        const tokenizer = loadTokenizer(loadModelFolder(fixturePath(g.name)));
        const generation = await engine.start(textRequest(PROMPT), { id: nextId(), signal: new AbortController().signal });
        expect(generation.promptTokens).toBe(g.promptIds.length);
        const out = await collect(generation.events);
        expect(out.finish).toEqual(["length"]);
        const decode = (ids: number[]): string => tokenizer.full.decode(ids, { skip_special_tokens: true, clean_up_tokenization_spaces: false });
        // Decoded in context: a leading space of the first new token is kept.
        const full = decode([...g.promptIds, ...g.ids]);
        expect(full.startsWith(decode(g.promptIds))).toBe(true);
        expect(out.text[0]).toBe(full.slice(decode(g.promptIds).length));
      });
    }
  });
});
