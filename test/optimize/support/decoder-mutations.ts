/**
 * Variants of tiny-chat's torch export, made by editing its graph: a bias
 * the fusion does not support (o_proj), one it does (Qwen2's q/k/v), and an
 * attention scale that matches every structural check but computes
 * something else. Each is written over the copy's onnx/model.onnx.
 */
import { join } from "node:path";
import { readFileSync, writeFileSync } from "node:fs";
import { readModel } from "../../../src/optimize/model-reader.ts";
import { writeModel } from "../../../src/optimize/model-writer.ts";
import { newNode, newTensor, type GraphProto, type ModelProto } from "../../../src/optimize/onnx-proto.ts";
import { bytes, randomMatrix } from "./onnx-builders.ts";

export function editModel(dir: string, edit: (graph: GraphProto) => void): void {
  const path = join(dir, "onnx/model.onnx");
  const loaded = readModel(path);
  edit(loaded.model.graph!);
  writeModel(loaded.model as ModelProto, path, { external: false, sourceDir: loaded.dir });
}

export function editConfig(dir: string, changes: Record<string, unknown>): void {
  const path = join(dir, "config.json");
  writeFileSync(path, JSON.stringify({ ...JSON.parse(readFileSync(path, "utf8")), ...changes }, null, 2));
}

/** `node`'s output now goes through Add(output, bias): a [n] random vector. */
export function addBias(graph: GraphProto, nodeName: string, n: number, seed: number): void {
  const index = graph.node.findIndex((x) => x.name === nodeName);
  if (index < 0) throw new Error(`no node ${nodeName}`);
  const node = graph.node[index];
  const out = node.output[0];
  node.output[0] = `${out}_before_bias`;
  const bias = `${nodeName}/bias`;
  graph.initializer.push(newTensor({ name: bias, dims: [n], data_type: 1, raw_data: bytes(randomMatrix(1, n, seed, 0.5)) }));
  graph.node.splice(index + 1, 0, newNode({ op_type: "Add", input: [node.output[0], bias], output: [out], name: `${nodeName}/AddBias` }));
}

/** Qwen2's layout: q, k and v projections with biases, in every layer. */
export function addQkvBiases(graph: GraphProto, layers: number, sizes: { q: number; kv: number }): void {
  for (let i = 0; i < layers; i++) {
    addBias(graph, `/model/layers.${i}/self_attn/q_proj/MatMul`, sizes.q, 100 + i);
    addBias(graph, `/model/layers.${i}/self_attn/k_proj/MatMul`, sizes.kv, 200 + i);
    addBias(graph, `/model/layers.${i}/self_attn/v_proj/MatMul`, sizes.kv, 300 + i);
  }
}

/**
 * Stores a MatMul's [K][N] weight as [N][K] behind a Transpose, as exports
 * without constant folding write Linear layers; `reuse` names an existing
 * [N][K] initializer to read instead (a tied LM head reading the embedding).
 */
export function transposeWeight(graph: GraphProto, nodeName: string, reuse?: string): void {
  const node = graph.node.find((n) => n.name === nodeName);
  const weight = graph.initializer.find((t) => t.name === node?.input[1]);
  if (!node || !weight) throw new Error(`${nodeName} has no initializer weight`);
  let source = reuse;
  if (!source) {
    const [k, n] = weight.dims.map(Number);
    const values = new Float32Array(Uint8Array.from(weight.raw_data!).buffer); // a copy: raw_data may be a view into the file
    const t = new Float32Array(k * n);
    for (let r = 0; r < k; r++) for (let c = 0; c < n; c++) t[c * k + r] = values[r * n + c];
    source = `${weight.name}_nk`;
    graph.initializer.push(newTensor({ name: source, dims: [n, k], data_type: 1, raw_data: bytes(t) }));
  }
  graph.initializer = graph.initializer.filter((t) => t !== weight);
  const out = `${nodeName}/weight_transposed`;
  graph.node.splice(graph.node.indexOf(node), 0, newNode({ op_type: "Transpose", input: [source], output: [out], name: `${nodeName}/Transpose`, attribute: [{ name: "perm", type: 7, ints: [1, 0] } as never] }));
  node.input[1] = out;
}

/** Divides layer `layer`'s attention scores by `divisor` instead of sqrt(head_dim). */
export function setScoreDivisor(graph: GraphProto, layer: number, divisor: number): void {
  const div = graph.node.find((n) => n.name === `/model/layers.${layer}/self_attn/Div_2`);
  const constant = graph.node.find((n) => n.output[0] === div?.input[1] && n.op_type === "Constant");
  if (!constant) throw new Error(`layer ${layer}'s score divisor is not a Constant`);
  constant.attribute[0].t!.raw_data = bytes(Float32Array.of(divisor));
}
