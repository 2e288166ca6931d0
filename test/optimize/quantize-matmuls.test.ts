/**
 * The graph rewrite on small graphs built here, each run in
 * onnxruntime-node before and after: which MatMuls become MatMulNBits,
 * which are left exactly as they were (and why), what happens to a tied
 * embedding, and MatMuls inside If branches that read an outer weight.
 */
import * as ort from "onnxruntime-node";
import { describe, expect, it } from "vitest";
import { quantizeMatMuls, type QuantizeOptions } from "../../src/optimize/quantize-matmuls.ts";
import { NodeProtoType, decodeModel, encodeModel, int64ToNumber, type ModelProto, type NodeProto } from "../../src/optimize/onnx-proto.ts";
import { readFloatWeights } from "../../src/optimize/tensor-data.ts";
import { forEachGraph } from "../../src/optimize/graph-walk.ts";
import {
  computedWeightModel,
  ifModel,
  matMulModel,
  maxAbsDiff,
  model,
  randomMatrix,
  runAll,
  runY,
  tiedHeadModel,
} from "./support/onnx-builders.ts";

const Q4: QuantizeOptions = { bits: 4, blockSize: 32, symmetric: false, accuracyLevel: 4 };
const Q8: QuantizeOptions = { bits: 8, blockSize: 32, symmetric: true, accuracyLevel: 4 };
const read = (t: Parameters<typeof readFloatWeights>[0]): Float32Array | null => readFloatWeights(t, "/nonexistent");

/** A deep copy through the wire format, so "before" stays untouched by the rewrite. */
function clone(m: ModelProto): ModelProto {
  return decodeModel(encodeModel(m));
}

function nodeBytes(n: NodeProto): Buffer {
  return Buffer.from(NodeProtoType.encode(n as never).finish());
}

function attrs(n: NodeProto): Record<string, number> {
  return Object.fromEntries(n.attribute.map((a) => [a.name, int64ToNumber(a.i)]));
}

describe("quantizeMatMuls", () => {
  const k = 64;
  const n = 40;
  const w = randomMatrix(k, n, 7, 0.5);
  const a = randomMatrix(2, k, 8);

  it("a [K][N] initializer weight: the MatMul becomes MatMulNBits in place, the float weight goes", async () => {
    const before = matMulModel(w, k, n);
    const after = clone(before);
    const report = quantizeMatMuls(after, read, Q8);
    expect(report.quantized).toEqual([{ node: "matmul", weight: "W", k, n, floatBytes: k * n * 4, quantizedBytes: n * 2 * 32 + n * 2 * 4, shared: false }]);
    expect(report.left).toEqual([]);
    expect(report.removedInitializers).toEqual(["W"]);
    const node = after.graph!.node[0];
    expect(node).toMatchObject({ op_type: "MatMulNBits", domain: "com.microsoft", input: ["A", "W_Q8", "W_scales"], output: ["Y"], name: "matmul_Q8" });
    expect(attrs(node)).toEqual({ K: k, N: n, bits: 8, block_size: 32, accuracy_level: 4 });
    expect(after.opset_import.map((o) => [o.domain, int64ToNumber(o.version)])).toContainEqual(["com.microsoft", 1]);
    const yFloat = await runY(before, a, 2, k);
    const yQuant = await runY(after, a, 2, k);
    expect(maxAbsDiff(yFloat, yQuant)).toBeLessThan(0.05);
  });

  it("a weight behind Transpose(perm 1,0) quantizes from its [N][K] form, and the Transpose goes", async () => {
    const before = matMulModel(w, k, n, { transposed: true });
    const after = clone(before);
    const report = quantizeMatMuls(after, read, Q4);
    expect(report.quantized).toHaveLength(1);
    expect(after.graph!.node.map((x) => x.op_type)).toEqual(["MatMulNBits"]);
    expect(after.graph!.initializer.map((t) => t.name).sort()).toEqual(["W_Q4", "W_scales", "W_zero_points"]);
    expect(maxAbsDiff(await runY(before, a, 2, k), await runY(after, a, 2, k))).toBeLessThan(0.3);
  });

  it("a tied embedding: the head gets its own quantized copy, the Gather keeps the float table", async () => {
    const vocab = 50;
    const hidden = 32;
    const table = randomMatrix(vocab, hidden, 9);
    const before = tiedHeadModel(table, vocab, hidden);
    const after = clone(before);
    const report = quantizeMatMuls(after, read, Q8);
    expect(report.quantized.map((q) => [q.node, q.k, q.n])).toEqual([["lm_head", hidden, vocab]]);
    expect(report.removedInitializers).toEqual([]);
    const g = after.graph!;
    expect(g.node.map((x) => x.op_type)).toEqual(["Gather", "MatMulNBits"]);
    expect(g.node[0].input[0]).toBe("E");
    expect(g.initializer.find((t) => t.name === "E")!.data_type).toBe(1);
    const feeds = { ids: new ort.Tensor("int64", BigInt64Array.from([3n, 17n, 42n]), [1, 3]) };
    const yFloat = (await runAll(before, feeds)).logits;
    const yQuant = (await runAll(after, feeds)).logits;
    expect(maxAbsDiff(yFloat, yQuant)).toBeLessThan(0.1);
  });

  it("a MatMul whose weight is computed is left exactly as it was, and reported", async () => {
    const before = computedWeightModel(w, k, n);
    const after = clone(before);
    const report = quantizeMatMuls(after, read, Q4);
    expect(report.quantized).toEqual([]);
    expect(report.left).toEqual([{ node: "matmul_computed", reason: "weight is computed by Mul, not a constant" }]);
    expect(Buffer.from(encodeModel(after)).equals(Buffer.from(encodeModel(before)))).toBe(true);
  });

  it("in a graph with both, only the constant one changes; the computed one keeps every byte", async () => {
    // Z = Y x V after the computed MatMul: V is a constant [N][N] initializer.
    const square = matMulModel(randomMatrix(n, n, 11), n, n, { name: "V" }).graph!;
    const m = computedWeightModel(w, k, n);
    m.graph!.node.push({ ...square.node[0], input: ["Y", "V"], output: ["Z"], name: "matmul_const" } as NodeProto);
    m.graph!.initializer.push(square.initializer[0]);
    m.graph!.output = [{ ...m.graph!.output[0], name: "Z" }];
    const before = clone(m);
    const after = clone(m);
    const report = quantizeMatMuls(after, read, Q8);
    expect(report.quantized.map((q) => q.node)).toEqual(["matmul_const"]);
    expect(report.left.map((l) => l.node)).toEqual(["matmul_computed"]);
    const computedBefore = before.graph!.node.find((x) => x.name === "matmul_computed")!;
    const computedAfter = after.graph!.node.find((x) => x.name === "matmul_computed")!;
    expect(nodeBytes(computedAfter).equals(nodeBytes(computedBefore))).toBe(true);
    expect(after.graph!.node.find((x) => x.name === "double_w")).toEqual(before.graph!.node.find((x) => x.name === "double_w"));
    expect(after.graph!.initializer.map((t) => t.name)).toEqual(expect.arrayContaining(["W", "two"]));
    const feeds = { A: new ort.Tensor("float32", a, [2, k]) };
    const zFloat = (await runAll(before, feeds)).Z;
    const zQuant = (await runAll(after, feeds)).Z;
    expect(maxAbsDiff(zFloat, zQuant)).toBeLessThan(0.05 * Math.max(...zFloat.map(Math.abs)));
  });

  it("an initializer that is also a graph input (overridable) is not treated as constant", () => {
    const m = matMulModel(w, k, n);
    m.graph!.input.push({ ...m.graph!.input[0], name: "W" });
    const report = quantizeMatMuls(m, read, Q4);
    expect(report.left).toEqual([{ node: "matmul", reason: "weight initializer is also a graph input, so callers may override it" }]);
  });

  it("a weight read by two MatMuls is quantized once", () => {
    const m = matMulModel(w, k, n);
    m.graph!.node.push({ ...m.graph!.node[0], output: ["Y2"], name: "matmul2" } as NodeProto);
    m.graph!.output.push({ ...m.graph!.output[0], name: "Y2" });
    const report = quantizeMatMuls(m, read, Q4);
    expect(report.quantized.map((q) => q.shared)).toEqual([false, true]);
    expect(m.graph!.node[0].input.slice(1)).toEqual(m.graph!.node[1].input.slice(1));
    expect(m.graph!.initializer).toHaveLength(3);
  });

  it("MatMuls inside If branches, reading an outer weight and a branch weight, are quantized and still run", async () => {
    const before = ifModel(w, k, n);
    const after = clone(before);
    const report = quantizeMatMuls(after, read, Q8);
    expect(report.quantized.map((q) => q.node).sort()).toEqual(["else_mm", "else_mm2", "then_mm"]);
    expect(report.quantized.find((q) => q.node === "else_mm")!.shared).toBe(true);
    const ops: string[] = [];
    forEachGraph(after.graph!, (g) => g.node.forEach((x) => ops.push(x.op_type)));
    expect(ops.filter((o) => o === "MatMul")).toEqual([]);
    // The outer weight's quantized copy lives in the outer graph, in scope of both branches.
    expect(after.graph!.initializer.map((t) => t.name).sort()).toEqual(["W_Q8", "W_scales"]);
    for (const flag of [true, false]) {
      const feeds = { A: new ort.Tensor("float32", a, [2, k]), flag: new ort.Tensor("bool", Uint8Array.of(flag ? 1 : 0), []) };
      const yFloat = (await runAll(before, feeds)).Y;
      const yQuant = (await runAll(after, feeds)).Y;
      expect(maxAbsDiff(yFloat, yQuant)).toBeLessThan(0.1);
    }
  });

  it("a graph with no MatMul is returned untouched, with no opset added", () => {
    const m = model({ name: "g", node: [], output: [] });
    expect(quantizeMatMuls(m, read, Q4)).toEqual({ quantized: [], left: [], removedInitializers: [] });
    expect(m.opset_import).toHaveLength(1);
  });
});

describe("quantizeMatMuls: model-local functions", () => {
  it("a MatMul inside a function body is reported as left, the body untouched", () => {
    const m = matMulModel(randomMatrix(32, 8, 1), 32, 8);
    m.functions = [{ name: "proj", domain: "local", input: ["x", "w"], output: ["y"], node: [{ op_type: "MatMul", input: ["x", "w"], output: ["y"], name: "inner" }] }] as never;
    const copy = decodeModel(encodeModel(m)); // through the wire, as a file would come
    const report = quantizeMatMuls(copy, read, Q4);
    expect(report.quantized.map((q) => q.node)).toEqual(["matmul"]);
    expect(report.left).toEqual([{ node: "proj/inner", reason: "inside a model-local function, not rewritten" }]);
    expect(copy.functions[0].node[0]).toMatchObject({ op_type: "MatMul", input: ["x", "w"], name: "inner" });
  });
});
