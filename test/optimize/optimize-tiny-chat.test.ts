/**
 * The optimizer on the shipped model (always present), on a temporary
 * copy: the q8 and q4 files load through the server's ModelRunner, keep the
 * embedding Gather in float, and answer the 18 fixed chat examples as the
 * float model does.
 *
 * Tolerances, over the teacher-forced answer positions (up to EOS), against
 * the logit scale (largest |logit|, about 25 here):
 *   q8: every greedy answer identical, max |diff| <= 4% of the scale,
 *       mean <= 0.4%, top-1 agreement 100%;
 *   q4: at least 16/18 answers identical, max |diff| <= 20%, mean <= 2%,
 *       top-1 agreement >= 97%.
 * Measured (ORT 1.30, AVX512-VNNI CPU, 150 positions): q8 max 0.21 (0.9%),
 * mean 0.027, top-1 100%, 18/18 identical; q4 max 1.86 (8.3%), mean 0.23,
 * top-1 100%, 18/18 identical.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { compileChatTemplate } from "../../src/model/chat-template.ts";
import { loadModelFolder, type ModelFolder } from "../../src/model/model-folder.ts";
import { PromptEncoder } from "../../src/model/prompt-encoder.ts";
import { loadTokenizer } from "../../src/model/tokenizer.ts";
import { readModel } from "../../src/optimize/model-reader.ts";
import { int64ToNumber, type ModelProto } from "../../src/optimize/onnx-proto.ts";
import type { OptimizeResult } from "../../src/optimize/optimize-model.ts";
import type { ModelRunner } from "../../src/worker/model-runner.ts";
import { defaultModelExamples, eosIds, tinyChat } from "../support/fixtures.ts";
import { compareLogits, describeComparison, greedy } from "./support/logit-compare.ts";
import { openRunner, optimizeFolder, removeTempCopy, tempCopy } from "./support/optimized-copy.ts";

const examples = defaultModelExamples();

describe("optimize: tiny-chat q8 and q4", () => {
  let dir: string;
  let floatFolder: ModelFolder;
  let reference: ModelRunner;
  let prompts: number[][];
  const optimized: Record<"q8" | "q4", { folder: ModelFolder; result: OptimizeResult; runner: ModelRunner }> = {} as never;
  const stopIds = eosIds(tinyChat);

  beforeAll(async () => {
    dir = tempCopy(tinyChat);
    floatFolder = loadModelFolder(dir);
    const template = compileChatTemplate(floatFolder.chatTemplate!, floatFolder.tokenizerConfig, "chat_template");
    const encoder = new PromptEncoder(loadTokenizer(floatFolder), template, 414);
    prompts = examples.map((e) => encoder.encode({ kind: "chat", messages: e.messages }));
    reference = await openRunner(floatFolder);
    for (const dtype of ["q8", "q4"] as const) {
      const { folder, result } = optimizeFolder(dir, dtype);
      optimized[dtype] = { folder, result, runner: await openRunner(folder) };
    }
  });

  afterAll(async () => {
    await reference?.release();
    for (const o of Object.values(optimized)) await o.runner.release();
    if (dir) removeTempCopy(dir);
  });

  it("writes model_quantized.onnx and model_q4.onnx beside the original, inline, much smaller", () => {
    const q8 = optimized.q8.result;
    const q4 = optimized.q4.result;
    expect(q8.output.path).toBe(join(dir, "onnx/model_quantized.onnx"));
    expect(q4.output.path).toBe(join(dir, "onnx/model_q4.onnx"));
    expect(q8.output.dataPath).toBeNull();
    expect(q8.output.protoBytes).toBeLessThan(0.35 * q8.input.protoBytes);
    expect(q4.output.protoBytes).toBeLessThan(0.25 * q4.input.protoBytes);
    expect(readFileSync(join(dir, "onnx/model.onnx")).equals(readFileSync(join(tinyChat, "onnx/model.onnx")))).toBe(true);
  });

  it("every projection and the LM head become MatMulNBits; attention's activation x activation MatMuls stay", () => {
    for (const [dtype, bits] of [["q8", 8], ["q4", 4]] as const) {
      const { report } = optimized[dtype].result;
      expect(report.quantized).toHaveLength(6 * 7 + 1);
      expect(report.left).toHaveLength(12);
      expect(report.left.every((l) => /self_attn\/MatMul(_1)?$/.test(l.node))).toBe(true);
      const model: ModelProto = readModel(optimized[dtype].result.output.path).model;
      const graph = model.graph!;
      const nbits = graph.node.filter((n) => n.op_type === "MatMulNBits");
      expect(nbits).toHaveLength(43);
      for (const n of nbits) {
        expect(n.domain).toBe("com.microsoft");
        const attr = Object.fromEntries(n.attribute.map((a) => [a.name, int64ToNumber(a.i)]));
        expect(attr).toMatchObject({ bits, block_size: 32, accuracy_level: 4 });
        expect(n.input).toHaveLength(dtype === "q4" ? 4 : 3); // q4 carries zero points, q8 is symmetric
      }
      expect(model.opset_import.some((o) => o.domain === "com.microsoft" && int64ToNumber(o.version) === 1)).toBe(true);
      // The embedding stays a float Gather over the float [vocab, hidden] table.
      const gather = graph.node.find((n) => n.name === "/model/embed_tokens/Gather")!;
      const table = graph.initializer.find((t) => t.name === gather.input[0])!;
      expect(table.data_type).toBe(1);
      expect(table.dims.map(int64ToNumber)).toEqual([414, 192]);
      const lmHead = nbits.find((n) => n.name === "/model/MatMul_Q" + bits)!;
      expect(Object.fromEntries(lmHead.attribute.map((a) => [a.name, int64ToNumber(a.i)]))).toMatchObject({ K: 192, N: 414 });
    }
  });

  it("q8: every example answered exactly as the float model answers it", async () => {
    const c = await compareLogits(reference, optimized.q8.runner, prompts, { steps: 24, stopIds });
    console.info(describeComparison("tiny-chat q8", c));
    expect(c.greedyEqual).toBe(examples.length);
    expect(c.maxAbsDiff).toBeLessThanOrEqual(0.04 * c.scale);
    expect(c.meanAbsDiff).toBeLessThanOrEqual(0.004 * c.scale);
    expect(c.top1Agreement).toBe(1);
  });

  it("q4: within the looser tolerance", async () => {
    const c = await compareLogits(reference, optimized.q4.runner, prompts, { steps: 24, stopIds });
    console.info(describeComparison("tiny-chat q4", c));
    expect(c.greedyEqual).toBeGreaterThanOrEqual(examples.length - 2);
    expect(c.maxAbsDiff).toBeLessThanOrEqual(0.2 * c.scale);
    expect(c.meanAbsDiff).toBeLessThanOrEqual(0.02 * c.scale);
    expect(c.top1Agreement).toBeGreaterThanOrEqual(0.97);
  });

  it("q8's greedy answers are the examples' expected texts", async () => {
    const tokenizer = loadTokenizer(floatFolder);
    for (let i = 0; i < examples.length; i++) {
      const { ids } = await greedy(optimized.q8.runner, prompts[i], { steps: 24, stopIds });
      expect(tokenizer.full.decode(ids.filter((id) => !stopIds.includes(id)))).toBe(examples[i].answer);
    }
  });
});
