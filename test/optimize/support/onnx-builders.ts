/**
 * Small ONNX graphs built in the test, through the same schema the
 * optimizer reads and writes: a lone MatMul, a lone MatMulNBits, a MatMul
 * whose weight is computed. Plain objects go through protobufjs fromObject.
 */
import * as ort from "onnxruntime-node";
import { ModelProtoType, encodeModel, type ModelProto } from "../../../src/optimize/onnx-proto.ts";
import type { QuantizedMatrix } from "../../../src/optimize/block-quantizer.ts";

export const FLOAT = 1;
export const UINT8 = 2;

/** A seeded uniform generator (mulberry32), so failures reproduce. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function randomMatrix(rows: number, cols: number, seed: number, scale = 1): Float32Array {
  const rnd = seededRandom(seed);
  return Float32Array.from({ length: rows * cols }, () => (rnd() * 2 - 1) * scale);
}

export function bytes(view: ArrayBufferView): Uint8Array {
  return new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
}

function valueInfo(name: string, elemType: number, dims: Array<number | string>): object {
  return {
    name,
    type: { tensor_type: { elem_type: elemType, shape: { dim: dims.map((d) => (typeof d === "number" ? { dim_value: d } : { dim_param: d })) } } },
  };
}

function tensor(name: string, dataType: number, dims: number[], data: Uint8Array): object {
  return { name, data_type: dataType, dims, raw_data: data };
}

export function model(graph: object, opsets: Array<[string, number]> = [["", 17]]): ModelProto {
  return ModelProtoType.fromObject({
    ir_version: 8,
    producer_name: "optimize-test",
    opset_import: opsets.map(([domain, version]) => ({ domain, version })),
    graph,
  }) as unknown as ModelProto;
}

/** Y = A x W, W a [K][N] float initializer (optionally stored [N][K] behind a Transpose). */
export function matMulModel(weight: Float32Array, k: number, n: number, opts: { transposed?: boolean; name?: string } = {}): ModelProto {
  const w = opts.name ?? "W";
  const nodes: object[] = [];
  let bInput = w;
  let init: object;
  if (opts.transposed) {
    // Store W^T ([N][K]) and transpose it back in the graph, as tied LM heads export.
    const t = new Float32Array(k * n);
    for (let r = 0; r < k; r++) for (let c = 0; c < n; c++) t[c * k + r] = weight[r * n + c];
    init = tensor(w, FLOAT, [n, k], bytes(t));
    nodes.push({ op_type: "Transpose", input: [w], output: ["Wt"], name: "transpose_w", attribute: [{ name: "perm", type: 7, ints: [1, 0] }] });
    bInput = "Wt";
  } else {
    init = tensor(w, FLOAT, [k, n], bytes(weight));
  }
  nodes.push({ op_type: "MatMul", input: ["A", bInput], output: ["Y"], name: "matmul" });
  return model({
    name: "g",
    node: nodes,
    initializer: [init],
    input: [valueInfo("A", FLOAT, ["M", k])],
    output: [valueInfo("Y", FLOAT, ["M", n])],
  });
}

/** Y = MatMulNBits(A, packed, scales[, zero_points]) for a quantized [K][N] weight. */
export function matMulNBitsModel(q: QuantizedMatrix, bits: number, blockSize: number, accuracyLevel: number): ModelProto {
  const inits = [
    tensor("B", UINT8, [q.n, q.kBlocks, q.blobSize], q.packed),
    tensor("scales", FLOAT, [q.n, q.kBlocks], bytes(q.scales)),
  ];
  if (q.zeroPoints) inits.push(tensor("zp", UINT8, [q.n, q.zeroPoints.length / q.n], q.zeroPoints));
  const attr = (name: string, i: number): object => ({ name, type: 2, i });
  return model(
    {
      name: "g",
      node: [
        {
          op_type: "MatMulNBits",
          domain: "com.microsoft",
          input: ["A", "B", "scales", ...(q.zeroPoints ? ["zp"] : [])],
          output: ["Y"],
          attribute: [attr("K", q.k), attr("N", q.n), attr("bits", bits), attr("block_size", blockSize), attr("accuracy_level", accuracyLevel)],
        },
      ],
      initializer: inits,
      input: [valueInfo("A", FLOAT, ["M", q.k])],
      output: [valueInfo("Y", FLOAT, ["M", q.n])],
    },
    [["", 17], ["com.microsoft", 1]],
  );
}

/**
 * Y = A x (W * 2): the weight is computed by a Mul, so it is not a
 * constant the optimizer may quantize; it must leave the MatMul as it is.
 */
export function computedWeightModel(weight: Float32Array, k: number, n: number): ModelProto {
  return model({
    name: "g",
    node: [
      { op_type: "Mul", input: ["W", "two"], output: ["W2"], name: "double_w" },
      { op_type: "MatMul", input: ["A", "W2"], output: ["Y"], name: "matmul_computed" },
    ],
    initializer: [tensor("W", FLOAT, [k, n], bytes(weight)), tensor("two", FLOAT, [], bytes(Float32Array.of(2)))],
    input: [valueInfo("A", FLOAT, ["M", k])],
    output: [valueInfo("Y", FLOAT, ["M", n])],
  });
}

/** Runs a one-input ("A") model on ORT's CPU EP and returns Y. */
export async function runY(m: ModelProto | string, a: Float32Array, rows: number, k: number): Promise<Float32Array> {
  const options: ort.InferenceSession.SessionOptions = { graphOptimizationLevel: "all" };
  const session = typeof m === "string" ? await ort.InferenceSession.create(m, options) : await ort.InferenceSession.create(encodeModel(m), options);
  try {
    const out = await session.run({ A: new ort.Tensor("float32", a, [rows, k]) });
    return out.Y.data as Float32Array;
  } finally {
    await session.release();
  }
}

/** A [M][K] x B [K][N] in float64. */
export function matmulRef(a: Float32Array, b: Float32Array, m: number, k: number, n: number): Float64Array {
  const y = new Float64Array(m * n);
  for (let i = 0; i < m; i++) for (let r = 0; r < k; r++) for (let c = 0; c < n; c++) y[i * n + c] += a[i * k + r] * b[r * n + c];
  return y;
}

export function maxAbsDiff(x: ArrayLike<number>, y: ArrayLike<number>): number {
  let max = 0;
  for (let i = 0; i < x.length; i++) max = Math.max(max, Math.abs(x[i] - y[i]));
  return max;
}

/**
 * A tied LM head as exporters write it: the embedding table E [V][H] feeds
 * a Gather (ids -> hidden) and, through Transpose, the head MatMul
 * (hidden -> logits). Inputs: ids int64 [1, T]; output: logits [1, T, V].
 */
export function tiedHeadModel(table: Float32Array, vocab: number, hidden: number): ModelProto {
  return model({
    name: "g",
    node: [
      { op_type: "Gather", input: ["E", "ids"], output: ["h"], name: "embed" },
      { op_type: "Transpose", input: ["E"], output: ["Et"], name: "tie", attribute: [{ name: "perm", type: 7, ints: [1, 0] }] },
      { op_type: "MatMul", input: ["h", "Et"], output: ["logits"], name: "lm_head" },
    ],
    initializer: [tensor("E", FLOAT, [vocab, hidden], bytes(table))],
    input: [valueInfo("ids", 7, [1, "T"])],
    output: [valueInfo("logits", FLOAT, [1, "T", vocab])],
  });
}

/**
 * An If whose two branches each hold a MatMul reading the same outer
 * initializer W (scoping as in Optimum's merged decoders): Y = A x W when
 * `flag`, else Y = A x W x 1 (a second MatMul on the branch's own weight).
 */
export function ifModel(weight: Float32Array, k: number, n: number): ModelProto {
  const branch = (name: string, extra: boolean): object => ({
    name,
    node: extra
      ? [
          { op_type: "MatMul", input: ["A", "W"], output: [`${name}_t`], name: `${name}_mm` },
          { op_type: "MatMul", input: [`${name}_t`, `${name}_I`], output: [`${name}_y`], name: `${name}_mm2` },
        ]
      : [{ op_type: "MatMul", input: ["A", "W"], output: [`${name}_y`], name: `${name}_mm` }],
    initializer: extra ? [tensor(`${name}_I`, FLOAT, [n, n], bytes(identity(n)))] : [],
    output: [valueInfo(`${name}_y`, FLOAT, ["M", n])],
  });
  return model({
    name: "g",
    node: [
      {
        op_type: "If",
        input: ["flag"],
        output: ["Y"],
        name: "branch",
        attribute: [
          { name: "then_branch", type: 5, g: branch("then", false) },
          { name: "else_branch", type: 5, g: branch("else", true) },
        ],
      },
    ],
    initializer: [tensor("W", FLOAT, [k, n], bytes(weight))],
    input: [valueInfo("A", FLOAT, ["M", k]), valueInfo("flag", 9, [])],
    output: [valueInfo("Y", FLOAT, ["M", n])],
  });
}

function identity(n: number): Float32Array {
  const m = new Float32Array(n * n);
  for (let i = 0; i < n; i++) m[i * n + i] = 1;
  return m;
}

/** Runs a model with arbitrary feeds and returns every output. */
export async function runAll(m: ModelProto, feeds: Record<string, ort.Tensor>): Promise<Record<string, Float32Array>> {
  const session = await ort.InferenceSession.create(encodeModel(m));
  try {
    const out = await session.run(feeds);
    return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, v.data as Float32Array]));
  } finally {
    await session.release();
  }
}
