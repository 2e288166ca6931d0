/**
 * Recognises an RMSNorm by its data flow, walking back from the value a
 * layer's projections read: weight * (x / sqrt(mean(x^2) + eps)), whatever
 * the exporter's spelling of each step:
 *
 *   x^2          Pow(x, 2) or Mul(x, x)
 *   mean         ReduceMean over the last axis, keepdims (axes as an
 *                attribute, or an input from opset 18)
 *   1 / sqrt     Div(x, Sqrt(..)), or Mul(x, Reciprocal(Sqrt(..))), or
 *                Mul(x, Div(1, Sqrt(..)))
 *   weight       a constant 1-D float vector multiplied in last
 *
 * with float Casts allowed anywhere around x (torch wraps the norm in
 * them). What it returns is exactly what SimplifiedLayerNormalization
 * computes; anything else (an offset weight, a mean subtracted, no eps) is
 * not matched.
 */
import { DataType, type NodeProto, type TensorProto } from "../onnx-proto.ts";
import { dims } from "../tensor-data.ts";
import { constantNumbers, constantTensor, hasOp, intAttr, intsAttr, isOp, scalarConstant, throughFloatCasts, type GraphIndex } from "./graph-index.ts";

export interface RmsNormMatch {
  /** The normalized value (x), behind any float Casts. */
  input: string;
  /** The norm's output: what the projections read. */
  output: string;
  weight: TensorProto;
  epsilon: number;
}

export function matchRmsNorm(index: GraphIndex, output: string): RmsNormMatch | null {
  const scale = index.producer.get(output);
  if (!isOp(scale, "Mul")) return null;
  for (const [w, other] of [
    [0, 1],
    [1, 0],
  ]) {
    const weight = constantTensor(index, scale.input[w]);
    if (!weight || weight.data_type !== DataType.FLOAT || dims(weight).length !== 1) continue;
    const normalized = matchNormalized(index, throughFloatCasts(index, scale.input[other]));
    if (normalized) return { ...normalized, output, weight };
  }
  return null;
}

/** x / sqrt(mean(x^2) + eps), in one of its spellings. */
function matchNormalized(index: GraphIndex, name: string): { input: string; epsilon: number } | null {
  const node = index.producer.get(name);
  if (!node) return null;
  if (hasOp(node, "Div")) return matchRoot(index, node.input[1], node.input[0]);
  if (!hasOp(node, "Mul")) return null;
  for (const [r, x] of [
    [1, 0],
    [0, 1],
  ]) {
    const inverse = index.producer.get(node.input[r]);
    if (isOp(inverse, "Reciprocal")) {
      const m = matchRoot(index, inverse.input[0], node.input[x]);
      if (m) return m;
    }
    if (isOp(inverse, "Div") && scalarConstant(index, inverse.input[0]) === 1) {
      const m = matchRoot(index, inverse.input[1], node.input[x]);
      if (m) return m;
    }
  }
  return null;
}

/** `root` = Sqrt(ReduceMean(x^2) + eps), where x is `numerator` behind float Casts. */
function matchRoot(index: GraphIndex, root: string, numerator: string): { input: string; epsilon: number } | null {
  const sqrt = index.producer.get(root);
  if (!isOp(sqrt, "Sqrt")) return null;
  const add = index.producer.get(sqrt.input[0]);
  if (!isOp(add, "Add")) return null;
  for (const [e, m] of [
    [1, 0],
    [0, 1],
  ]) {
    const epsilon = scalarConstant(index, add.input[e]);
    if (epsilon === null || !(epsilon > 0)) continue;
    const mean = index.producer.get(add.input[m]);
    if (!isOp(mean, "ReduceMean") || !reducesLastAxis(index, mean)) continue;
    const squared = squaredInput(index, mean.input[0]);
    const x = throughFloatCasts(index, numerator);
    if (squared !== null && throughFloatCasts(index, squared) === x) return { input: x, epsilon };
  }
  return null;
}

function reducesLastAxis(index: GraphIndex, mean: NodeProto): boolean {
  if (intAttr(mean, "keepdims") === 0) return false;
  const axes = intsAttr(mean, "axes") ?? (mean.input[1] ? constantNumbers(index, mean.input[1]) : null);
  // The hidden states are [batch, sequence, hidden]: the last axis is -1 or 2.
  return axes !== null && axes.length === 1 && (axes[0] === -1 || axes[0] === 2);
}

function squaredInput(index: GraphIndex, name: string): string | null {
  const node = index.producer.get(name);
  if (isOp(node, "Pow") && scalarConstant(index, node.input[1]) === 2) return node.input[0];
  if (isOp(node, "Mul") && node.input[0] === node.input[1]) return node.input[0];
  return null;
}
