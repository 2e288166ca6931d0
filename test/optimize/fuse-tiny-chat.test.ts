/**
 * optimize --fuse on the shipped model (a torch.onnx export of 1,238 nodes),
 * on a temporary copy: the fused fp32 graph has the model builder's layout,
 * answers the 18 chat examples with the same greedy ids and logits within
 * 1e-4 relative, and runs through the server's own ModelRunner: right-padded
 * batch prefill, batched decode, and the load-time placement probe (which
 * must find GroupQueryAttention's in-place writes and batched decode equal
 * to batch 1). Fused q8/q4 must meet the quantize-only tolerances of
 * optimize-tiny-chat.test.ts against the float model.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { compileChatTemplate } from "../../src/model/chat-template.ts";
import { loadModelFolder, type ModelFolder } from "../../src/model/model-folder.ts";
import { PromptEncoder } from "../../src/model/prompt-encoder.ts";
import { loadTokenizer } from "../../src/model/tokenizer.ts";
import { readModel } from "../../src/optimize/model-reader.ts";
import { int64ToNumber, type NodeProto } from "../../src/optimize/onnx-proto.ts";
import type { FusedResult } from "../../src/optimize/fuse/fuse-model.ts";
import type { ModelRunner } from "../../src/worker/model-runner.ts";
import { probeChunkedPrefill, probePlacement } from "../../src/worker/placement-probe.ts";
import { defaultModelExamples, eosIds, tinyChat } from "../support/fixtures.ts";
import { batchedDecode, relativeDiff } from "./support/batched-decode.ts";
import { compareLogits, describeComparison } from "./support/logit-compare.ts";
import { fuseFolder, openRunner, removeTempCopy, tempCopy } from "./support/optimized-copy.ts";

const examples = defaultModelExamples();
type Dtype = "fp32" | "q8" | "q4";

function attrs(n: NodeProto): Record<string, number> {
  return Object.fromEntries(n.attribute.map((a) => [a.name, a.f !== undefined && a.f !== 0 ? a.f : int64ToNumber(a.i)]));
}

describe("optimize --fuse: tiny-chat", () => {
  let dir: string;
  let reference: ModelRunner;
  let prompts: number[][];
  const fused = {} as Record<Dtype, { folder: ModelFolder; result: FusedResult; runner: ModelRunner }>;
  const stopIds = eosIds(tinyChat);

  beforeAll(async () => {
    dir = tempCopy(tinyChat);
    const floatFolder = loadModelFolder(dir);
    const template = compileChatTemplate(floatFolder.chatTemplate!, floatFolder.tokenizerConfig, "chat_template");
    const encoder = new PromptEncoder(loadTokenizer(floatFolder), template, 414);
    prompts = examples.map((e) => encoder.encode({ kind: "chat", messages: e.messages }));
    reference = await openRunner(floatFolder);
    for (const dtype of ["fp32", "q8", "q4"] as const) {
      const { folder, result } = await fuseFolder(dir, dtype);
      fused[dtype] = { folder, result, runner: await openRunner(folder) };
    }
  });

  afterAll(async () => {
    await reference?.release();
    for (const f of Object.values(fused)) await f.runner.release();
    if (dir) removeTempCopy(dir);
  });

  it("every dtype is fused and proven; fp32 goes to model_fused.onnx, q8/q4 to the files --dtype serves", () => {
    expect(fused.fp32.result.output.path).toBe(join(dir, "onnx/model_fused.onnx"));
    expect(fused.q8.result.output.path).toBe(join(dir, "onnx/model_quantized.onnx"));
    expect(fused.q4.result.output.path).toBe(join(dir, "onnx/model_q4.onnx"));
    for (const [dtype, f] of Object.entries(fused)) {
      // q8/q4 pack gate|up into one MatMul and a Split (a Constant gives the sizes): one node more per layer.
      const packed = dtype !== "fp32";
      expect(f.result.fusion).toMatchObject({ fused: true, layers: 6, packedGateUp: packed, nodesBefore: 1238, nodesAfter: packed ? 102 + 6 : 102 });
      if (!f.result.fusion.fused) continue;
      expect(f.result.fusion.verification.logits).toBeLessThan(1e-5);
      expect(f.result.fusion.verification.presents).toBeLessThan(1e-5);
    }
  });

  it("the q8/q4 files shipped in models/tiny-chat are what optimize --fuse writes today", () => {
    // If this fails after a change to the optimizer: npm run optimize -- --model models/tiny-chat --dtype q8|q4 --fuse --force
    for (const dtype of ["q8", "q4"] as const) {
      const name = dtype === "q8" ? "model_quantized.onnx" : "model_q4.onnx";
      expect(readFileSync(join(tinyChat, "onnx", name)).equals(readFileSync(fused[dtype].result.output.path))).toBe(true);
    }
  });

  it("fp32: the model builder's layout, node for node", () => {
    const graph = readModel(fused.fp32.result.output.path).model.graph!;
    const count = (op: string): number => graph.node.filter((n) => n.op_type === op).length;
    // 9 mask/embedding nodes, 13 that index the positions a run writes, 11 per layer
    // and 2 that gather its new key and value, final norm and LM head.
    expect(graph.node).toHaveLength(9 + 13 + (11 + 2) * 6 + 2);
    expect([count("GroupQueryAttention"), count("SimplifiedLayerNormalization"), count("SkipSimplifiedLayerNormalization")]).toEqual([6, 1, 12]);
    expect(count("MatMul")).toBe(6 * 5 + 1);
    // Every residual Add is a SkipSimplifiedLayerNormalization's sum; the two Adds left index the new positions.
    expect(graph.node.filter((n) => n.op_type === "Add").map((n) => n.name)).toEqual(["/model/new_positions/Add", "/model/new_positions/Positions"]);
    const gathers = graph.node.filter((n) => n.op_type === "GatherElements");
    expect(gathers.map((n) => n.input[0])).toEqual(Array.from({ length: 6 }, (_, i) => [`present.${i}.key`, `present.${i}.value`]).flat());
    expect(graph.output.map((v) => v.name).slice(-2)).toEqual(["new_key_values.5.key", "new_key_values.5.value"]);
    const gqa = graph.node.find((n) => n.op_type === "GroupQueryAttention")!;
    expect(gqa.domain).toBe("com.microsoft");
    expect(attrs(gqa)).toMatchObject({ num_heads: 4, kv_num_heads: 2, do_rotary: 1, rotary_interleaved: 0 });
    expect(attrs(gqa).scale).toBeCloseTo(1 / Math.sqrt(48), 7);
    expect(gqa.input.slice(3, 5)).toEqual(["past_key_values.0.key", "past_key_values.0.value"]);
    expect(gqa.output.slice(1)).toEqual(["present.0.key", "present.0.value"]);
    const qkv = graph.initializer.find((t) => t.name === graph.node.find((n) => n.output[0] === gqa.input[0])!.input[1])!;
    expect(qkv.dims.map(int64ToNumber)).toEqual([192, 4 * 48 + 2 * 2 * 48]);
    const cos = graph.initializer.find((t) => t.name === "cos_cache")!;
    expect(cos.dims.map(int64ToNumber)).toEqual([512, 24]); // max_position_embeddings x head_dim / 2
    expect(graph.input.map((v) => v.name)).not.toContain("position_ids");
    expect(graph.input.map((v) => v.name).slice(0, 2)).toEqual(["input_ids", "attention_mask"]);
  });

  it("fp32: every example's greedy ids as the plain graph, logits within 1e-4 relative", async () => {
    const c = await compareLogits(reference, fused.fp32.runner, prompts, { steps: 24, stopIds });
    console.info(describeComparison("tiny-chat fused fp32", c));
    expect(c.greedyEqual).toBe(examples.length);
    expect(c.top1Agreement).toBe(1);
    expect(c.maxAbsDiff).toBeLessThanOrEqual(1e-4 * c.scale);
  });

  it("fp32 through the server's path: placement probe in place, chunked prefill, batched decode as the plain graph's", async () => {
    const runner = fused.fp32.runner;
    expect(runner.io.positionIds).toBeNull();
    const probe = await probePlacement(runner);
    expect(probe.placement).toBe("in-place"); // GroupQueryAttention writes a short row's token right after its length
    expect(probe.reason).toMatch(/matches batch 1/);
    expect(await probeChunkedPrefill(runner)).toBe(true);
    const rows = prompts.slice(0, 5);
    const plain = await batchedDecode(reference, rows, 12);
    const candidate = await batchedDecode(runner, rows, 12, plain.tokens);
    expect(relativeDiff(plain.logits, candidate.logits)).toBeLessThanOrEqual(1e-4);
  });

  it("q8 fused: within the quantize-only tolerance", async () => {
    const c = await compareLogits(reference, fused.q8.runner, prompts, { steps: 24, stopIds });
    console.info(describeComparison("tiny-chat fused q8", c));
    expect(c.greedyEqual).toBe(examples.length);
    expect(c.maxAbsDiff).toBeLessThanOrEqual(0.04 * c.scale);
    expect(c.meanAbsDiff).toBeLessThanOrEqual(0.004 * c.scale);
    expect(c.top1Agreement).toBe(1);
  });

  it("q4 fused: within the quantize-only tolerance", async () => {
    const c = await compareLogits(reference, fused.q4.runner, prompts, { steps: 24, stopIds });
    console.info(describeComparison("tiny-chat fused q4", c));
    expect(c.greedyEqual).toBeGreaterThanOrEqual(examples.length - 2);
    expect(c.maxAbsDiff).toBeLessThanOrEqual(0.2 * c.scale);
    expect(c.meanAbsDiff).toBeLessThanOrEqual(0.02 * c.scale);
    expect(c.top1Agreement).toBeGreaterThanOrEqual(0.97);
  });

  it("q8/q4 fused: every weight is MatMulNBits (q|k|v and gate|up packed), the embedding Gather stays float", () => {
    for (const dtype of ["q8", "q4"] as const) {
      const { report } = fused[dtype].result;
      expect(report.quantized).toHaveLength(6 * 4 + 1);
      expect(report.quantized.filter((q) => q.n === 2 * 512)).toHaveLength(6);
      expect(report.left).toEqual([]);
      const graph = readModel(fused[dtype].result.output.path).model.graph!;
      expect(graph.node.filter((n) => n.op_type === "MatMul")).toEqual([]);
      const gather = graph.node.find((n) => n.name === "/model/embed_tokens/Gather")!;
      expect(graph.initializer.find((t) => t.name === gather.input[0])!.data_type).toBe(1);
    }
  });
});
