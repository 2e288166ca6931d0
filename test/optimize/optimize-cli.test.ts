/**
 * The `optimize` command as a user meets it: arguments, the files it
 * writes and refuses to overwrite, the summary, and one-line errors.
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runOptimizeCli, runOptimizeCommand, type CliIo } from "../../src/optimize/optimize-cli.ts";
import { outputPathFor } from "../../src/optimize/dtypes.ts";
import { tinyChat } from "../support/fixtures.ts";
import { removeTempCopy, tempCopy } from "./support/optimized-copy.ts";

/** Without --fuse the command is synchronous: runOptimizeCli returns its exit code. */
function run(args: string[]): { code: number | undefined; out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIo = { out: (l) => out.push(l), err: (l) => err.push(l) };
  return { code: runOptimizeCli(args, io), out, err };
}

/** The awaitable form, which --fuse needs. */
async function runAwaited(args: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runOptimizeCommand(args, { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out, err };
}

describe("optimize CLI", () => {
  let dir: string;
  beforeAll(() => {
    dir = tempCopy(tinyChat);
  });
  afterAll(() => removeTempCopy(dir));

  it("names outputs as transformers.js and the server's --dtype do, beside the input", () => {
    expect(outputPathFor("/m/onnx/model.onnx", "q4")).toBe("/m/onnx/model_q4.onnx");
    expect(outputPathFor("/m/onnx/model.onnx", "q8")).toBe("/m/onnx/model_quantized.onnx");
    expect(outputPathFor("/m/decoder_model_merged.onnx", "q4")).toBe("/m/decoder_model_merged_q4.onnx");
    // A genai folder's other names (gpt2's past.onnx) get the name --dtype looks for.
    expect(outputPathFor("/m/past.onnx", "q8")).toBe("/m/model_quantized.onnx");
  });

  it("q8 on a model folder: writes onnx/model_quantized.onnx and prints what it did", () => {
    const { code, out, err } = run(["--model", dir, "--dtype", "q8"]);
    expect(err).toEqual([]);
    expect(code).toBe(0);
    const text = out.join("\n");
    expect(text).toContain("format: q8, 8-bit MatMulNBits, block 32, symmetric, accuracy_level 4");
    expect(text).toMatch(/MatMuls quantized: 43 \(weights [\d.]+ MB -> [\d.]+ MB\)/);
    expect(text).toContain("MatMuls left as they were: 12");
    expect(text).toContain("6 x weight is computed by Reshape, not a constant");
    expect(text).toMatch(/size: 10\.6 MB -> [\d.]+ MB/);
    expect(text).toContain(join(dir, "onnx/model_quantized.onnx"));
    expect(statSync(join(dir, "onnx/model_quantized.onnx")).size).toBeGreaterThan(1_000_000);
  });

  it("refuses to replace an existing output unless --force", () => {
    const target = join(dir, "onnx/model_quantized.onnx");
    const before = readFileSync(target);
    const again = run(["--model", dir, "--dtype", "q8"]);
    expect(again.code).toBe(1);
    expect(again.err).toEqual([`error: ${target}: already exists; pass --force to replace it`]);
    expect(readFileSync(target).equals(before)).toBe(true);
    const forced = run(["--model", dir, "--dtype", "q8", "--force"]);
    expect(forced.code).toBe(0);
    expect(readFileSync(target).equals(before)).toBe(true); // deterministic
  });

  it("q4 with --model naming the .onnx file itself", () => {
    const { code } = run(["--model", join(dir, "onnx/model.onnx"), "--dtype", "q4"]);
    expect(code).toBe(0);
    expect(existsSync(join(dir, "onnx/model_q4.onnx"))).toBe(true);
    expect(readFileSync(join(dir, "onnx/model.onnx")).equals(readFileSync(join(tinyChat, "onnx/model.onnx")))).toBe(true);
  });

  it("bad arguments: exit code 2 with the usage", () => {
    for (const args of [[], ["--model", dir], ["--model", dir, "--dtype", "q3"], ["--model", dir, "--dtype", "q4", "--bogus"]]) {
      const { code, err } = run(args);
      expect(code).toBe(2);
      expect(err.join("\n")).toContain("usage: onnx-openai-server optimize");
    }
    expect(run(["--help"]).code).toBe(0);
  });

  it("a folder that is not a model: one line, exit code 1", () => {
    const { code, err } = run(["--model", join(dir, "eval"), "--dtype", "q4"]);
    expect(code).toBe(1);
    expect(err).toHaveLength(1);
    expect(err[0]).toMatch(/^error: .*eval/);
  });

  it("--fuse --dtype fp32: writes onnx/model_fused.onnx and says what it fused and how it was checked", async () => {
    expect(outputPathFor("/m/onnx/model.onnx", "fp32")).toBe("/m/onnx/model_fused.onnx");
    const { code, out, err } = await runAwaited(["--model", dir, "--dtype", "fp32", "--fuse"]);
    expect(err).toEqual([]);
    expect(code).toBe(0);
    const text = out.join("\n");
    expect(text).toContain("format: fp32, weights not quantized");
    expect(text).toContain("fused: 6 layers into GroupQueryAttention, (Skip)SimplifiedLayerNormalization and packed q|k|v (1238 -> 102 nodes)");
    expect(text).toMatch(/checked against the original on probe inputs: logits within [\d.e-]+, presents within [\d.e-]+ \(relative; tolerance 1e-4\)/);
    expect(text).toContain(join(dir, "onnx/model_fused.onnx"));
    expect(existsSync(join(dir, "onnx/model_fused.onnx"))).toBe(true);
  });

  it("--fuse through runOptimizeCli (as main.ts calls it): no code returned, process.exitCode set when done", async () => {
    const saved = process.exitCode;
    const out: string[] = [];
    try {
      process.exitCode = undefined;
      const code = runOptimizeCli(["--model", dir, "--dtype", "q4", "--fuse", "--force"], { out: (l) => out.push(l), err: (l) => out.push(l) });
      expect(code).toBeUndefined();
      for (let i = 0; i < 200 && process.exitCode === undefined; i++) await new Promise((r) => setTimeout(r, 50));
      expect(process.exitCode).toBe(0);
      expect(out.join("\n")).toContain("fused: 6 layers");
    } finally {
      process.exitCode = saved;
    }
  });

  it("--dtype fp32 without --fuse is a usage error: an unfused fp32 model is the input itself", () => {
    const { code, err } = run(["--model", dir, "--dtype", "fp32"]);
    expect(code).toBe(2);
    expect(err[0].split("\n")[0]).toBe("error: --dtype fp32 needs --fuse (an fp32 model without fusion is the input itself)");
  });
});
