/**
 * --fuse on edited copies of tiny-chat's export. Decoders it must not fuse
 * (an o_proj bias, scaled RoPE, and another attention scale, which passes
 * every structural check and only the proof on probe inputs catches): the
 * reason is reported, q8/q4 fall back to exactly the quantize-only file, and
 * fp32 writes nothing. Variants it does fuse: Qwen2's q/k/v biases (packed
 * like the weights) and weights stored [N][K] behind Transposes.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { loadModelFolder } from "../../src/model/model-folder.ts";
import { quantizeOptionsFor } from "../../src/optimize/dtypes.ts";
import { fuseModelFile } from "../../src/optimize/fuse/fuse-model.ts";
import { readModel } from "../../src/optimize/model-reader.ts";
import { optimizeModelFile } from "../../src/optimize/optimize-model.ts";
import { tinyChat } from "../support/fixtures.ts";
import { addBias, addQkvBiases, editConfig, editModel, setScoreDivisor, transposeWeight } from "./support/decoder-mutations.ts";
import { compareLogits } from "./support/logit-compare.ts";
import { fuseFolder, openRunner, removeTempCopy, tempCopy } from "./support/optimized-copy.ts";

const PROMPTS = [
  [412, 10, 11, 12, 13, 14, 15],
  [412, 200, 201],
];

describe("optimize --fuse: edited exports, refused or fused", () => {
  const copies: string[] = [];
  const copy = (): string => {
    const dir = tempCopy(tinyChat);
    copies.push(dir);
    return dir;
  };
  afterEach(() => copies.splice(0).forEach(removeTempCopy));

  /** q4 with --fuse refused: the same bytes as plain q4; fp32 with --fuse: an error and no file. */
  async function expectFallback(dir: string, reason: RegExp): Promise<void> {
    const input = join(dir, "onnx/model.onnx");
    const fused = await fuseModelFile(input, join(dir, "onnx/model_q4.onnx"), quantizeOptionsFor("q4"));
    expect(fused.fusion.fused).toBe(false);
    if (!fused.fusion.fused) expect(fused.fusion.reason).toMatch(reason);
    const plain = optimizeModelFile(input, join(dir, "onnx/plain_q4.onnx"), quantizeOptionsFor("q4"));
    expect(readFileSync(fused.output.path).equals(readFileSync(plain.output.path))).toBe(true);
    await expect(fuseModelFile(input, join(dir, "onnx/model_fused.onnx"), null)).rejects.toThrow(new RegExp(`not fused: .*nothing written`));
    expect(existsSync(join(dir, "onnx/model_fused.onnx"))).toBe(false);
  }

  it("an o_proj bias (not fused): layer and reason reported", async () => {
    const dir = copy();
    editModel(dir, (g) => addBias(g, "/model/layers.3/self_attn/o_proj/MatMul", 192, 7));
    await expectFallback(dir, /^layer 3: o_proj has a bias, which is not fused$/);
  });

  it("another attention scale: every structural check passes, the proof on probe inputs refuses it", async () => {
    const dir = copy();
    editModel(dir, (g) => setScoreDivisor(g, 1, 5));
    await expectFallback(dir, /does not compute what the original does: logits within .* presents within/);
  });

  it("scaled RoPE in config.json: refused before the graph is read", async () => {
    const dir = copy();
    editConfig(dir, { rope_scaling: { rope_type: "linear", factor: 2 } });
    await expectFallback(dir, /rope_scaling .*linear.*: scaled RoPE caches are not built/);
  });

  it("Qwen2's q/k/v biases: fused, packed into one Add, and answering as the unfused graph", async () => {
    const dir = copy();
    editModel(dir, (g) => addQkvBiases(g, 6, { q: 192, kv: 96 }));
    editConfig(dir, { model_type: "qwen2" });
    const { folder, result } = await fuseFolder(dir, "fp32");
    expect(result.fusion).toMatchObject({ fused: true, layers: 6 });
    const graph = readModel(result.output.path).model.graph!;
    const adds = graph.node.filter((n) => n.op_type === "Add" && (n.name ?? "").startsWith("/model/layers."));
    expect(adds.map((n) => n.name)).toEqual(Array.from({ length: 6 }, (_, i) => `/model/layers.${i}/attn/qkv_proj/Add`));
    const reference = await openRunner(loadModelFolder(dir));
    const candidate = await openRunner(folder);
    try {
      const c = await compareLogits(reference, candidate, PROMPTS, { steps: 12 });
      expect(c.greedyEqual).toBe(PROMPTS.length);
      expect(c.maxAbsDiff).toBeLessThanOrEqual(1e-4 * c.scale);
    } finally {
      await Promise.all([reference.release(), candidate.release()]);
    }
  });

  it("weights stored [N][K] behind Transposes (a tied LM head on the embedding, a q_proj): fused fp32 and q4", async () => {
    const dir = copy();
    editModel(dir, (g) => {
      transposeWeight(g, "/model/MatMul", "model.embed_tokens.weight"); // tiny-chat's head is the embedding, transposed
      transposeWeight(g, "/model/layers.2/self_attn/q_proj/MatMul");
    });
    const reference = await openRunner(loadModelFolder(dir));
    try {
      for (const dtype of ["fp32", "q4"] as const) {
        const { folder, result } = await fuseFolder(dir, dtype);
        expect(result.fusion.fused).toBe(true);
        const graph = readModel(result.output.path).model.graph!;
        const gather = graph.node.find((n) => n.op_type === "Gather" && n.input[1] === "input_ids")!;
        expect(graph.initializer.find((t) => t.name === gather.input[0])!.data_type).toBe(1); // the table stays float
        // fp32 keeps the head's Transpose (ORT folds it at load); q4 quantizes the [N][K] table directly.
        expect(graph.node.filter((n) => n.op_type === "Transpose")).toHaveLength(dtype === "fp32" ? 1 : 0);
        const candidate = await openRunner(folder);
        try {
          const c = await compareLogits(reference, candidate, PROMPTS, { steps: 12 });
          expect(c.maxAbsDiff).toBeLessThanOrEqual((dtype === "fp32" ? 1e-4 : 0.2) * c.scale);
        } finally {
          await candidate.release();
        }
      }
    } finally {
      await reference.release();
    }
  });
});
