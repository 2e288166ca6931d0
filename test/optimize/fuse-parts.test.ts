/**
 * The parts of --fuse on their own: config.json settings accepted and
 * refused, the RoPE caches against the inverse frequencies tiny-chat's
 * export computes, and the RMSNorm matcher on the spellings exporters use
 * (and on near misses it must not take for an RMSNorm).
 */
import { describe, expect, it } from "vitest";
import { join } from "node:path";
import { parseDecoderConfig } from "../../src/optimize/fuse/decoder-config.ts";
import { constantNumbers, indexGraph } from "../../src/optimize/fuse/graph-index.ts";
import { matchRmsNorm } from "../../src/optimize/fuse/rms-norm-match.ts";
import { inverseFrequencies, ropeCaches } from "../../src/optimize/fuse/rope-cache.ts";
import { readModel } from "../../src/optimize/model-reader.ts";
import { tinyChat } from "../support/fixtures.ts";
import { bytes, model, FLOAT } from "./support/onnx-builders.ts";

const LLAMA = {
  model_type: "llama",
  hidden_size: 192,
  num_attention_heads: 4,
  num_key_value_heads: 2,
  head_dim: 48,
  num_hidden_layers: 6,
  intermediate_size: 512,
  max_position_embeddings: 512,
  rms_norm_eps: 1e-5,
  rope_theta: 10000,
  rope_scaling: null,
  hidden_act: "silu",
};

describe("config.json", () => {
  const parse = (changes: Record<string, unknown>) => parseDecoderConfig({ ...LLAMA, ...changes }, "config.json");

  it("takes a Llama config's sizes, head_dim defaulting to hidden / heads", () => {
    expect(parse({})).toMatchObject({ ok: true, config: { numHeads: 4, numKvHeads: 2, headDim: 48, ropeTheta: 10000, maxPositions: 512 } });
    expect(parse({ head_dim: undefined })).toMatchObject({ ok: true, config: { headDim: 48 } });
    expect(parse({ rope_scaling: { rope_type: "default" } }).ok).toBe(true);
    // Qwen2 ships a window as long as the context and switches it off.
    expect(parse({ model_type: "qwen2", sliding_window: 512, use_sliding_window: false }).ok).toBe(true);
    expect(parse({ model_type: "mistral", sliding_window: null }).ok).toBe(true);
  });

  it("refuses what the fused layout cannot express, naming it", () => {
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ model_type: "gemma" }, /model_type "gemma"/],
      [{ hidden_act: "gelu" }, /hidden_act "gelu" is not SiLU/],
      [{ rope_scaling: { type: "linear", factor: 2 } }, /rope_scaling .*linear/],
      [{ rope_scaling: { rope_type: "llama3", factor: 8 } }, /rope_scaling .*llama3/],
      [{ partial_rotary_factor: 0.5 }, /partial_rotary_factor 0.5/],
      [{ model_type: "mistral", sliding_window: 128 }, /sliding_window 128/],
      [{ model_type: "qwen2", use_sliding_window: true, sliding_window: 4096 }, /sliding_window 4096/],
      [{ mlp_bias: true }, /mlp_bias/],
      [{ head_dim: 47 }, /head size 47/],
      [{ num_key_value_heads: 3 }, /4 heads do not share 3 KV heads/],
      [{ max_position_embeddings: undefined }, /lacks one of/],
    ];
    for (const [changes, reason] of cases) {
      const result = parse(changes);
      expect(result.ok).toBe(false);
      if (!result.ok) expect(result.reason).toMatch(reason);
    }
  });
});

describe("RoPE caches", () => {
  it("inverse frequencies within one float32 step of what tiny-chat's export computes (torch's powf rounds one differently)", () => {
    const loaded = readModel(join(tinyChat, "onnx/model.onnx"));
    const exported = Float32Array.from(constantNumbers(indexGraph(loaded.model.graph!, loaded.dir), "/model/Constant_1_output_0")!);
    const ours = inverseFrequencies(10000, 48);
    expect(ours.length).toBe(exported.length);
    ours.forEach((v, i) => expect(Math.abs(v - exported[i])).toBeLessThanOrEqual(exported[i] * 2 ** -23));
  });

  it("row p holds cos/sin(p * inv_freq) for the float32 angle, [maxPositions][headDim / 2]", () => {
    const { cos, sin, rows, width } = ropeCaches(10000, 8, 100);
    expect([rows, width, cos.length]).toEqual([100, 4, 400]);
    const inv = inverseFrequencies(10000, 8);
    for (const p of [0, 1, 57, 99]) {
      for (let i = 0; i < width; i++) {
        const angle = Math.fround(p * inv[i]);
        expect(cos[p * width + i]).toBe(Math.fround(Math.cos(angle)));
        expect(sin[p * width + i]).toBe(Math.fround(Math.sin(angle)));
      }
    }
  });
});

describe("RMSNorm matcher", () => {
  const H = 4;
  const f32 = (name: string, values: number[], dims = [values.length]) => ({ name, data_type: FLOAT, dims, raw_data: bytes(Float32Array.from(values)) });
  const i64 = (name: string, values: number[]) => ({ name, data_type: 7, dims: [values.length], raw_data: bytes(BigInt64Array.from(values.map(BigInt))) });
  const node = (op_type: string, input: string[], output: string, attribute: object[] = []) => ({ op_type, input, output: [output], name: output, attribute });
  const axes = (values: number[]) => ({ name: "axes", type: 7, ints: values });
  const graphOf = (nodes: object[], inits: object[]) =>
    indexGraph(model({ name: "g", node: nodes, initializer: [f32("w", [1, 2, 3, 4]), f32("eps", [1e-6]), f32("two", [2]), f32("one", [1]), ...inits], input: [], output: [] }).graph!, "/nonexistent");

  it("torch.onnx: Cast, Pow 2, ReduceMean(axes=-1), Add eps, Sqrt, Div(1, .), Mul, Cast, Mul by the weight", () => {
    const g = graphOf(
      [
        node("Cast", ["x"], "xc", [{ name: "to", type: 2, i: 1 }]),
        node("Pow", ["xc", "two"], "sq"),
        node("ReduceMean", ["sq"], "mean", [axes([-1])]),
        node("Add", ["mean", "eps"], "var"),
        node("Sqrt", ["var"], "root"),
        node("Div", ["one", "root"], "inv"),
        node("Mul", ["xc", "inv"], "n"),
        node("Cast", ["n"], "nc", [{ name: "to", type: 2, i: 1 }]),
        node("Mul", ["w", "nc"], "y"),
      ],
      [],
    );
    const m = matchRmsNorm(g, "y");
    expect(m).toMatchObject({ input: "x", output: "y", weight: { name: "w" } });
    expect(m!.epsilon).toBeCloseTo(1e-6, 12);
  });

  it("other spellings: Mul(x, x), axes as an opset-18 input, eps first, Reciprocal; and Div(x, Sqrt(..))", () => {
    const g = graphOf(
      [
        node("Mul", ["x", "x"], "sq"),
        node("ReduceMean", ["sq", "last"], "mean"),
        node("Add", ["eps", "mean"], "var"),
        node("Sqrt", ["var"], "root"),
        node("Reciprocal", ["root"], "inv"),
        node("Mul", ["inv", "x"], "n"),
        node("Mul", ["n", "w"], "y"),
        node("Div", ["x", "root"], "n2"),
        node("Mul", ["n2", "w"], "y2"),
      ],
      [i64("last", [2])],
    );
    expect(matchRmsNorm(g, "y")).toMatchObject({ input: "x", weight: { name: "w" } });
    expect(matchRmsNorm(g, "y2")).toMatchObject({ input: "x", weight: { name: "w" } });
  });

  it("near misses are not an RMSNorm: cube, another axis, no eps, a 2-D weight, a different x on top", () => {
    const chain = (pow: string, axis: number, addend: string, weight: string, top: string) => [
      node("Pow", ["x", pow], "sq"),
      node("ReduceMean", ["sq"], "mean", [axes([axis])]),
      node("Add", ["mean", addend], "var"),
      node("Sqrt", ["var"], "root"),
      node("Div", [top, "root"], "n"),
      node("Mul", ["n", weight], "y"),
    ];
    const extra = [f32("three", [3]), f32("zero", [0]), f32("w2", [1, 2, 3, 4], [1, H])];
    expect(matchRmsNorm(graphOf(chain("two", -1, "eps", "w", "x"), extra), "y")).not.toBeNull();
    expect(matchRmsNorm(graphOf(chain("three", -1, "eps", "w", "x"), extra), "y")).toBeNull();
    expect(matchRmsNorm(graphOf(chain("two", 1, "eps", "w", "x"), extra), "y")).toBeNull();
    expect(matchRmsNorm(graphOf(chain("two", -1, "zero", "w", "x"), extra), "y")).toBeNull();
    expect(matchRmsNorm(graphOf(chain("two", -1, "eps", "w2", "x"), extra), "y")).toBeNull();
    expect(matchRmsNorm(graphOf(chain("two", -1, "eps", "w", "other"), extra), "y")).toBeNull();
  });
});
