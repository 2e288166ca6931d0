/**
 * Finds a Llama-style decoder in an unfused export by its data flow, not by
 * one exporter's op sequence, and returns the weights a fused rebuild needs:
 *
 * - present.N.key / present.N.value are computed (through rotary, Concat
 *   with the past, whatever the exporter wrote) from exactly one projection
 *   each: k_proj and v_proj; both read the same value x;
 * - x is an RMSNorm of the residual stream, and a third projection reads x:
 *   q_proj (an Add of a constant vector right after q/k/v is a Qwen2 bias);
 * - q, k and v all flow into exactly one projection: o_proj, whose output is
 *   added to the layer's input (the residual Add);
 * - that sum is RMSNorm'd into exactly two projections, gate and up, with
 *   gate * sigmoid(gate) * up flowing into down, added to the sum again:
 *   the layer's output and the next layer's input;
 * - the first layer's input is the embedding Gather; the last output is
 *   RMSNorm'd into the projection that writes `logits`.
 *
 * Anything else is refused with the layer and the reason. Matching is only
 * the first gate: the rebuilt graph must then compute the same logits and
 * presents as the original on probe inputs (fuse-verify.ts).
 */
import { DataType, type TensorProto } from "../onnx-proto.ts";
import { dims } from "../tensor-data.ts";
import type { DecoderConfig } from "./decoder-config.ts";
import { constantTensor, consumersOf, intAttr, isOp, throughFloatCasts, type GraphIndex } from "./graph-index.ts";
import { WeightWalker, type ResolvedWeight, type WeightedMatMul } from "./graph-walk-weights.ts";
import { matchRmsNorm, type RmsNormMatch } from "./rms-norm-match.ts";

export interface Projection {
  weight: ResolvedWeight;
  /** A constant [N] vector added right after the MatMul (Qwen2's q/k/v), or null. */
  bias: TensorProto | null;
  /** The projection's value after its bias. */
  output: string;
}

export interface LayerSpec {
  inputNorm: RmsNormMatch;
  q: Projection;
  k: Projection;
  v: Projection;
  o: ResolvedWeight;
  postNorm: RmsNormMatch;
  gate: ResolvedWeight;
  up: ResolvedWeight;
  down: ResolvedWeight;
  pastKey: string;
  pastValue: string;
  presentKey: string;
  presentValue: string;
}

export interface DecoderSpec {
  inputIds: string;
  attentionMask: string;
  embedding: TensorProto;
  layers: LayerSpec[];
  finalNorm: RmsNormMatch;
  lmHead: ResolvedWeight;
  logits: string;
}

export type MatchResult = { ok: true; spec: DecoderSpec } | { ok: false; reason: string };

class Refusal extends Error {}
function refuse(reason: string): never {
  throw new Refusal(reason);
}

export function matchDecoder(index: GraphIndex, config: DecoderConfig): MatchResult {
  try {
    return { ok: true, spec: match(index, config) };
  } catch (error) {
    if (error instanceof Refusal) return { ok: false, reason: error.message };
    throw error;
  }
}

function match(index: GraphIndex, config: DecoderConfig): DecoderSpec {
  const walker = new WeightWalker(index);
  checkIo(index, config);
  const embed = consumersOf(index, "input_ids").find((n) => isOp(n, "Gather") && n.input[1] === "input_ids" && (intAttr(n, "axis") ?? 0) === 0);
  const embedding = embed ? constantTensor(index, embed.input[0]) : null;
  if (!embed || !embedding || dims(embedding).length !== 2) refuse("input_ids do not index a constant embedding table");
  if (embedding.data_type !== DataType.FLOAT) refuse("the embedding table is not float32 (only float32 decoders are fused)");
  const [vocab, hidden] = dims(embedding);
  if (hidden !== config.hiddenSize) refuse(`the embedding width ${hidden} is not hidden_size ${config.hiddenSize}`);

  let residual = embed.output[0];
  const layers: LayerSpec[] = [];
  for (let i = 0; i < config.numLayers; i++) {
    const layer = matchLayer(walker, config, i, residual);
    layers.push(layer.spec);
    residual = layer.output;
  }

  const head = walker.weighted(index.producer.get("logits"));
  if (!head) refuse("logits are not written by a MatMul with a constant weight");
  const finalNorm = matchRmsNorm(index, head.node.input[0]);
  if (!finalNorm || finalNorm.input !== residual) refuse("the LM head does not read an RMSNorm of the last layer's output");
  if (head.weight.k !== hidden || head.weight.n !== vocab) refuse(`the LM head is ${head.weight.k}x${head.weight.n}, not ${hidden}x${vocab}`);
  for (const norm of [finalNorm, ...layers.flatMap((l) => [l.inputNorm, l.postNorm])]) checkNorm(norm, config);
  return { inputIds: "input_ids", attentionMask: "attention_mask", embedding, layers, finalNorm, lmHead: head.weight, logits: "logits" };
}

/** The graph's inputs and outputs are the ones the server feeds and reads, and only those. */
function checkIo(index: GraphIndex, config: DecoderConfig): void {
  const kv = (prefix: string, n: number): string[] => Array.from({ length: n }, (_, i) => [`${prefix}.${i}.key`, `${prefix}.${i}.value`]).flat();
  const wantInputs = new Set(["input_ids", "attention_mask", ...kv("past_key_values", config.numLayers)]);
  for (const name of wantInputs) if (!index.inputs.has(name)) refuse(`the graph has no "${name}" input`);
  const extra = [...index.inputs].filter((n) => !wantInputs.has(n) && n !== "position_ids");
  if (extra.length > 0) refuse(`unexpected graph inputs: ${extra.join(", ")}`);
  const wantOutputs = new Set(["logits", ...kv("present", config.numLayers)]);
  const outputs = [...index.outputs];
  if (outputs.length !== wantOutputs.size || !outputs.every((o) => wantOutputs.has(o))) {
    refuse(`the graph's outputs are not logits and present.N.key/value for ${config.numLayers} layers`);
  }
  for (const v of index.graph.input) {
    if (!v.name.startsWith("past_key_values.")) continue;
    const type = (v as { type?: { tensor_type?: { elem_type?: number } } }).type?.tensor_type?.elem_type;
    if (type !== DataType.FLOAT) refuse(`${v.name} is not float32 (only float32 decoders are fused)`);
  }
}

function checkNorm(norm: RmsNormMatch, config: DecoderConfig): void {
  if (dims(norm.weight)[0] !== config.hiddenSize) refuse(`an RMSNorm weight has ${dims(norm.weight)[0]} elements, not hidden_size`);
  if (config.rmsNormEps !== null && Math.abs(norm.epsilon - config.rmsNormEps) > 1e-3 * config.rmsNormEps) {
    refuse(`an RMSNorm adds ${norm.epsilon}, config.json says rms_norm_eps ${config.rmsNormEps}`);
  }
}

function matchLayer(walker: WeightWalker, config: DecoderConfig, i: number, residual: string): { spec: LayerSpec; output: string } {
  const index = walker.index;
  const at: (what: string) => never = (what) => refuse(`layer ${i}: ${what}`);
  const names = {
    pastKey: `past_key_values.${i}.key`,
    pastValue: `past_key_values.${i}.value`,
    presentKey: `present.${i}.key`,
    presentValue: `present.${i}.value`,
  };
  const source = (present: string, past: string): WeightedMatMul => {
    const { matmuls, inputs } = walker.backward(present);
    const pasts = [...inputs].filter((n) => n.startsWith("past_key_values."));
    if (pasts.length !== 1 || pasts[0] !== past) at(`${present} is not computed from ${past} alone`);
    if (matmuls.length !== 1) at(`${present} comes from ${matmuls.length} projections, not one`);
    return matmuls[0];
  };
  const kMatMul = source(names.presentKey, names.pastKey);
  const vMatMul = source(names.presentValue, names.pastValue);
  const x = kMatMul.node.input[0];
  if (vMatMul.node.input[0] !== x) at("k and v projections read different values");
  const readers = walker.readers(x);
  const qMatMul = readers.find((r) => r.node !== kMatMul.node && r.node !== vMatMul.node);
  if (readers.length !== 3 || !qMatMul) at(`the attention input feeds ${readers.length} projections, not q, k and v`);

  const { hiddenSize: h, numHeads, numKvHeads, headDim, intermediateSize } = config;
  const q = projection(walker, qMatMul, h, numHeads * headDim, at);
  const k = projection(walker, kMatMul, h, numKvHeads * headDim, at);
  const v = projection(walker, vMatMul, h, numKvHeads * headDim, at);

  const oTargets = [q, k, v].map((p) => walker.forward(p.output));
  const o = oTargets[0][0] ?? at("q flows into no output projection");
  if (!oTargets.every((t) => t.length === 1 && t[0].node === o.node)) at("q, k and v do not all flow into one output projection");
  expectShape(o.weight, numHeads * headDim, h, "o_proj", at);

  const inputNorm = matchRmsNorm(index, x) ?? at("the attention input is not an RMSNorm");
  if (inputNorm.input !== throughFloatCasts(index, residual)) at("the attention's RMSNorm does not read the layer input");
  const afterAttention = residualAdd(index, o.node.output[0], inputNorm.input, "o_proj", at);

  // The MLP: the two projections reading an RMSNorm of the post-attention sum.
  const mlpInputs = new Set(walker.forward(afterAttention).map((w) => w.node.input[0]));
  const postNorms = [...mlpInputs].map((y) => matchRmsNorm(index, y)).filter((n): n is RmsNormMatch => n?.input === afterAttention);
  if (postNorms.length !== 1) at("no single RMSNorm of the post-attention sum feeds the MLP");
  const postNorm = postNorms[0]!;
  const mlp = matchGatedMlp(walker, postNorm.output, at);
  expectShape(mlp.gate, h, intermediateSize, "gate_proj", at);
  expectShape(mlp.up, h, intermediateSize, "up_proj", at);
  expectShape(mlp.down.weight, intermediateSize, h, "down_proj", at);
  const output = residualAdd(index, mlp.down.node.output[0], afterAttention, "down_proj", at);

  return {
    spec: { inputNorm, q, k, v, o: o.weight, postNorm, gate: mlp.gate, up: mlp.up, down: mlp.down.weight, ...names },
    output,
  };
}

function projection(walker: WeightWalker, mm: WeightedMatMul, k: number, n: number, at: (what: string) => never): Projection {
  const index = walker.index;
  const name = mm.node.name || mm.node.output[0];
  expectShape(mm.weight, k, n, name, at);
  const out = mm.node.output[0];
  const users = consumersOf(index, out);
  const add = users.length === 1 && isOp(users[0], "Add") ? users[0] : null;
  const other = add ? add.input[add.input[0] === out ? 1 : 0] : null;
  const bias = other ? constantTensor(index, other) : null;
  if (bias && add) {
    if (bias.data_type !== DataType.FLOAT || dims(bias).length !== 1 || dims(bias)[0] !== n) at(`${name}'s bias is not a float vector of ${n}`);
    return { weight: mm.weight, bias, output: add.output[0] };
  }
  return { weight: mm.weight, bias: null, output: out };
}

function expectShape(w: ResolvedWeight, k: number, n: number, what: string, at: (what: string) => never): void {
  if (w.k !== k || w.n !== n) at(`${what} is ${w.k}x${w.n}, expected ${k}x${n}`);
}

/** `branch` + `residual` (behind float Casts), the only use of `branch`: returns the sum. */
function residualAdd(index: GraphIndex, branch: string, residual: string, what: string, at: (what: string) => never): string {
  const users = consumersOf(index, branch);
  const add = users.length === 1 && isOp(users[0], "Add") ? users[0] : null;
  if (!add) at(`${what}'s output is not only added to the residual stream`);
  const other = add.input[add.input[0] === branch ? 1 : 0];
  if (constantTensor(index, other)) at(`${what} has a bias, which is not fused`);
  if (throughFloatCasts(index, other) !== residual) at(`${what}'s output is not added to the residual stream`);
  return add.output[0];
}

/** gate * sigmoid(gate) * up -> down, with gate and up both reading `input`. */
function matchGatedMlp(
  walker: WeightWalker,
  input: string,
  at: (what: string) => never,
): { gate: ResolvedWeight; up: ResolvedWeight; down: WeightedMatMul } {
  const index = walker.index;
  const readers = walker.readers(input);
  if (readers.length !== 2) at(`the MLP input feeds ${readers.length} projections, not gate and up`);
  for (const [g, u] of [
    [readers[0], readers[1]],
    [readers[1], readers[0]],
  ]) {
    const gateOut = g.node.output[0];
    const sigmoid = consumersOf(index, gateOut).find((n) => isOp(n, "Sigmoid"));
    if (!sigmoid) continue;
    const silu = consumersOf(index, sigmoid.output[0]).find((n) => isOp(n, "Mul") && sameInputs(n.input, [gateOut, sigmoid.output[0]]));
    if (!silu) continue;
    const product = consumersOf(index, silu.output[0]).find((n) => isOp(n, "Mul") && sameInputs(n.input, [silu.output[0], u.node.output[0]]));
    if (!product) continue;
    const users = consumersOf(index, product.output[0]);
    const down = users.length === 1 ? walker.weighted(users[0]) : null;
    if (!down || down.node.input[0] !== product.output[0]) at("the gated MLP product does not feed one down projection");
    return { gate: g.weight, up: u.weight, down };
  }
  return at("the MLP is not SiLU(gate) * up");
}

function sameInputs(actual: string[], expected: [string, string]): boolean {
  return actual.length === 2 && ((actual[0] === expected[0] && actual[1] === expected[1]) || (actual[0] === expected[1] && actual[1] === expected[0]));
}
