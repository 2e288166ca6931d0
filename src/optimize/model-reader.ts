/**
 * Reads an ONNX file into a ModelProto and checks that it is whole before
 * anything is rewritten: a corrupt or truncated file is refused with the
 * file's name and the reason, never half-optimized.
 *
 * The .onnx protobuf itself is read as one buffer (protobuf caps a message at
 * 2 GB, so a larger .onnx cannot be valid); the weights of big models live
 * in external data files, which are only opened per tensor, by offset.
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { forEachGraph, forEachTensor } from "./graph-walk.ts";
import { decodeModel, encodedModelLength, int64ToNumber, type ModelProto } from "./onnx-proto.ts";
import { OptimizeError } from "./optimize-error.ts";
import { externalRef, fixedByteLength, isExternal } from "./tensor-data.ts";

/** protobuf's hard limit for one message. */
const MAX_PROTOBUF_BYTES = 2 ** 31 - 1;

export interface LoadedModel {
  path: string;
  dir: string;
  model: ModelProto;
  /** Size of the .onnx file. */
  protoBytes: number;
  /** External data files the model's tensors point into, with their sizes. */
  externalFiles: Map<string, number>;
  /**
   * Re-encoding the decoded model gives a different size: the file holds
   * fields this schema (ONNX 1.12) does not know, which the output would
   * lose, or an unusual encoding. 0 when it round-trips.
   */
  reencodeDelta: number;
}

export function readModel(path: string): LoadedModel {
  const file = resolve(path);
  if (!existsSync(file) || !statSync(file).isFile()) throw new OptimizeError(file, "no such ONNX file");
  const size = statSync(file).size;
  if (size > MAX_PROTOBUF_BYTES) {
    throw new OptimizeError(file, `is ${size} bytes; one ONNX protobuf cannot exceed 2 GB (larger models keep their weights in external data files)`);
  }
  if (size === 0) throw new OptimizeError(file, "is empty, not an ONNX model");
  const bytes = readFileSync(file);
  let model: ModelProto;
  try {
    model = decodeModel(bytes);
  } catch (error) {
    throw new OptimizeError(file, `is not a valid ONNX model: the protobuf does not decode (${(error as Error).message}); the file may be truncated or corrupt`);
  }
  checkWhole(file, model);
  const dir = dirname(file);
  return { path: file, dir, model, protoBytes: size, externalFiles: checkExternalData(model, dir), reencodeDelta: encodedModelLength(model) - size };
}

/**
 * Checks what a truncated or corrupt file would lack: a graph, an opset,
 * and every value a node reads being defined somewhere (a graph input, an
 * initializer, a node output, an enclosing graph's value, or "" for an
 * omitted optional input).
 */
function checkWhole(file: string, model: ModelProto): void {
  const bad = (reason: string): never => {
    throw new OptimizeError(file, `is not a valid ONNX model: ${reason}; the file may be truncated or corrupt`);
  };
  if (!model.graph) bad("it has no graph");
  if (model.opset_import.length === 0) bad("it imports no opset");
  if (int64ToNumber(model.ir_version) <= 0) bad("it has no IR version");
  const graph = model.graph!;
  if (graph.node.length === 0) bad("its graph has no nodes");
  if (graph.output.length === 0) bad("its graph has no outputs");
  const scopes = new Map<object, Set<string>>();
  forEachGraph(graph, (g, outer) => {
    const known = new Set<string>([""]);
    for (const o of outer) for (const name of scopes.get(o) ?? []) known.add(name);
    for (const v of g.input) known.add(v.name);
    for (const t of g.initializer) known.add(t.name);
    for (const s of g.sparse_initializer as Array<{ values?: { name: string } }>) if (s.values) known.add(s.values.name);
    for (const n of g.node) for (const o of n.output) known.add(o);
    scopes.set(g, known);
    for (const n of g.node) {
      for (const i of n.input) if (!known.has(i)) bad(`node "${n.name ?? n.op_type}" reads "${i}", which nothing defines`);
    }
    for (const o of g.output) if (!known.has(o.name)) bad(`graph output "${o.name}" is never produced`);
  });
  forEachTensor(model, (tensor) => {
    const expected = fixedByteLength(tensor);
    const held = tensor.raw_data?.length ?? 0;
    if (!isExternal(tensor) && held > 0 && expected !== null && held !== expected) {
      bad(`tensor "${tensor.name}" holds ${held} bytes where its shape needs ${expected}`);
    }
  });
}

/** Every external tensor's file must exist and hold its byte range. */
function checkExternalData(model: ModelProto, dir: string): Map<string, number> {
  const files = new Map<string, number>();
  forEachTensor(model, (tensor) => {
    if (!isExternal(tensor)) return;
    const ref = externalRef(tensor, dir);
    if (!files.has(ref.file)) {
      if (!existsSync(ref.file)) throw new OptimizeError(ref.file, `missing: tensor "${tensor.name}" keeps its data there`);
      files.set(ref.file, statSync(ref.file).size);
    }
    const length = ref.length ?? fixedByteLength(tensor) ?? 0;
    const size = files.get(ref.file)!;
    if (ref.offset + length > size) {
      throw new OptimizeError(ref.file, `is truncated or corrupt: tensor "${tensor.name}" needs bytes ${ref.offset}..${ref.offset + length}, the file has ${size}`);
    }
  });
  return files;
}
