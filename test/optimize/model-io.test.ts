/**
 * Reading and writing ONNX files: external data in and out (the output gets
 * its own data file, named after it), and inputs that must be refused with
 * a clear error naming the file: truncated, corrupt, not ONNX at all, or
 * with a truncated data file.
 */
import { existsSync, readFileSync, rmSync, truncateSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadModelFolder } from "../../src/model/model-folder.ts";
import { readModel } from "../../src/optimize/model-reader.ts";
import { writeModel } from "../../src/optimize/model-writer.ts";
import { optimizeModelFile } from "../../src/optimize/optimize-model.ts";
import { quantizeOptionsFor } from "../../src/optimize/dtypes.ts";
import { OptimizeError } from "../../src/optimize/optimize-error.ts";
import { forEachTensor } from "../../src/optimize/graph-walk.ts";
import { encodeModel } from "../../src/optimize/onnx-proto.ts";
import { tinyChat } from "../support/fixtures.ts";
import { forced } from "./support/logit-compare.ts";
import { openRunner, removeTempCopy, tempCopy } from "./support/optimized-copy.ts";

/** Every external location the file's tensors name. */
function locations(path: string): Set<string> {
  const found = new Set<string>();
  forEachTensor(readModel(path).model, (t) => {
    for (const e of t.external_data) if (e.key === "location") found.add(e.value);
  });
  return found;
}

describe("external data", () => {
  let dir: string;
  beforeAll(() => {
    dir = tempCopy(tinyChat);
  });
  afterAll(() => removeTempCopy(dir));

  it("a model written with external data, optimized, reloads with the same outputs as the inline one", async () => {
    const onnx = join(dir, "onnx");
    // The same weights twice: inline (the shipped file) and external (written here).
    const loaded = readModel(join(onnx, "model.onnx"));
    const external = writeModel(loaded.model, join(onnx, "ext.onnx"), { external: true, sourceDir: onnx });
    expect(external.dataPath).toBe(join(onnx, "ext.onnx_data"));
    expect(external.protoBytes).toBeLessThan(0.05 * loaded.protoBytes); // the weights moved out; small constants stay inline
    expect(locations(join(onnx, "ext.onnx"))).toEqual(new Set(["ext.onnx_data"]));

    const options = quantizeOptionsFor("q4");
    const fromInline = optimizeModelFile(join(onnx, "model.onnx"), join(onnx, "inline_q4.onnx"), options);
    const fromExternal = optimizeModelFile(join(onnx, "ext.onnx"), join(onnx, "ext_q4.onnx"), options);
    expect(fromInline.output.dataPath).toBeNull();
    expect(fromExternal.output.dataPath).toBe(join(onnx, "ext_q4.onnx_data"));
    expect(fromExternal.input.dataBytes).toBe(external.dataBytes);
    expect(locations(join(onnx, "ext_q4.onnx"))).toEqual(new Set(["ext_q4.onnx_data"]));

    // The output must not lean on the input's data file.
    rmSync(join(onnx, "ext.onnx_data"));
    const folder = loadModelFolder(dir);
    const prompt = [412, 882 % 414, 101, 102, 103, 10];
    const ids = [50, 60, 70, 80];
    const a = await openRunner({ ...folder, onnxPath: join(onnx, "inline_q4.onnx") });
    const b = await openRunner({ ...folder, onnxPath: join(onnx, "ext_q4.onnx") });
    try {
      const la = await forced(a, prompt, ids);
      const lb = await forced(b, prompt, ids);
      la.forEach((l, i) => expect(Buffer.from(lb[i].buffer).equals(Buffer.from(l.buffer))).toBe(true));
    } finally {
      await Promise.all([a.release(), b.release()]);
    }
  });

  it("an external data file cut short is refused, naming the data file", () => {
    const onnx = join(dir, "onnx");
    const loaded = readModel(join(onnx, "model.onnx"));
    writeModel(loaded.model, join(onnx, "cut.onnx"), { external: true, sourceDir: onnx });
    truncateSync(join(onnx, "cut.onnx_data"), 1000);
    expect(() => readModel(join(onnx, "cut.onnx"))).toThrow(/cut\.onnx_data: is truncated or corrupt: tensor ".+" needs bytes/);
    rmSync(join(onnx, "cut.onnx_data"));
    expect(() => readModel(join(onnx, "cut.onnx"))).toThrow(/cut\.onnx_data: missing: tensor ".+" keeps its data there/);
  });
});

describe("inputs that are refused", () => {
  let dir: string;
  let original: Buffer;
  beforeAll(() => {
    dir = tempCopy(tinyChat);
    original = readFileSync(join(dir, "onnx/model.onnx"));
  });
  afterAll(() => removeTempCopy(dir));

  function refusal(name: string, bytes: Uint8Array): OptimizeError {
    const path = join(dir, "onnx", name);
    writeFileSync(path, bytes);
    try {
      optimizeModelFile(path, join(dir, "onnx", `${name}_q4.onnx`), quantizeOptionsFor("q4"));
    } catch (error) {
      expect(error).toBeInstanceOf(OptimizeError);
      expect((error as OptimizeError).file).toBe(path);
      expect(existsSync(join(dir, "onnx", `${name}_q4.onnx`))).toBe(false);
      return error as OptimizeError;
    }
    throw new Error(`${name} was not refused`);
  }

  it("a truncated file, cut inside the weights or near its end", () => {
    for (const keep of [0.5, 0.999, 0.99999]) {
      const e = refusal(`cut-${keep}.onnx`, original.subarray(0, Math.floor(original.length * keep)));
      expect(e.message).toMatch(/is not a valid ONNX model: .*truncated or corrupt/);
    }
  });

  it("a file cut exactly between two fields, which still decodes, lacks its opset and is refused", () => {
    // PyTorch writes ModelProto's fields in number order, the opset imports (8) last.
    const model = readModel(join(dir, "onnx/model.onnx")).model;
    model.opset_import = [];
    const prefix = encodeModel(model).length;
    expect(Buffer.from(encodeModel(model)).equals(original.subarray(0, prefix))).toBe(true);
    expect(refusal("boundary.onnx", original.subarray(0, prefix)).message).toMatch(/it imports no opset; the file may be truncated or corrupt/);
  });

  it("a corrupt file: bytes overwritten in the middle, or random bytes", () => {
    const scribbled = Buffer.from(original);
    scribbled.fill(0xff, 200, 264);
    expect(refusal("scribbled.onnx", scribbled).message).toMatch(/is not a valid ONNX model/);
    const random = Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919 + 13) % 251));
    expect(refusal("random.onnx", random).message).toMatch(/is not a valid ONNX model/);
    expect(refusal("text.onnx", Buffer.from("not a model\n")).message).toMatch(/is not a valid ONNX model/);
  });

  it("an empty file", () => {
    expect(refusal("empty.onnx", new Uint8Array(0)).message).toMatch(/is empty/);
  });
});
