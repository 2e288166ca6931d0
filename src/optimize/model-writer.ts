/**
 * Writes a ModelProto as one .onnx file, or as a small .onnx plus one
 * external data file named after it (model_q4.onnx -> model_q4.onnx_data),
 * never sharing the input's data file: the optimized model must stay valid
 * when the original and its data are deleted or replaced.
 *
 * Both files are written under temporary names and renamed into place, data
 * first, so a crash never leaves a half-written model where the server would
 * pick it up.
 */
import { closeSync, openSync, renameSync, rmSync, writeFileSync, writeSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { forEachTensor } from "./graph-walk.ts";
import { DataLocation, encodeModel, newEntry, type ModelProto, type TensorProto } from "./onnx-proto.ts";
import { OptimizeError } from "./optimize-error.ts";
import { externalRef, fixedByteLength, isExternal, readRange } from "./tensor-data.ts";

/** Tensors smaller than this stay inline even in an external-data model, as ONNX's own writer does. */
const INLINE_MAX_BYTES = 1024;
/** Large tensors start on a page boundary, so ORT can map them straight from the file. */
const PAGE = 4096;
const PAGE_ALIGN_FROM = 1024 * 1024;
const COPY_CHUNK = 64 * 1024 * 1024;

export interface WriteOptions {
  /** Move tensor data into `<output>_data`. Required when any tensor is external in the input. */
  external: boolean;
  /** Folder of the input model, against which its external locations resolve. */
  sourceDir: string;
}

export interface WrittenModel {
  path: string;
  protoBytes: number;
  dataPath: string | null;
  dataBytes: number;
}

export function externalDataName(outPath: string): string {
  return `${basename(outPath)}_data`;
}

export function writeModel(model: ModelProto, outPath: string, options: WriteOptions): WrittenModel {
  const suffix = `.tmp-${process.pid}`;
  const protoTmp = outPath + suffix;
  const dataPath = options.external ? join(dirname(outPath), externalDataName(outPath)) : null;
  const dataTmp = dataPath ? dataPath + suffix : null;
  try {
    const dataBytes = dataTmp ? moveTensorsToFile(model, dataTmp, externalDataName(outPath), options.sourceDir) : assertAllInline(model, outPath);
    const bytes = encodeModel(model);
    writeFileSync(protoTmp, bytes);
    if (dataTmp && dataPath) renameSync(dataTmp, dataPath);
    renameSync(protoTmp, outPath);
    return { path: outPath, protoBytes: bytes.length, dataPath, dataBytes };
  } catch (error) {
    rmSync(protoTmp, { force: true });
    if (dataTmp) rmSync(dataTmp, { force: true });
    throw error;
  }
}

function assertAllInline(model: ModelProto, outPath: string): number {
  forEachTensor(model, (tensor) => {
    if (isExternal(tensor)) throw new OptimizeError(outPath, `tensor "${tensor.name}" is external; write with external data`);
  });
  return 0;
}

/**
 * Writes every tensor's data of INLINE_MAX_BYTES or more (and every tensor
 * that was external in the input, whatever its size) into `file`, and points
 * the tensor at it. Input external data is copied in chunks, never loaded
 * whole.
 */
function moveTensorsToFile(model: ModelProto, file: string, location: string, sourceDir: string): number {
  const fd = openSync(file, "w");
  let offset = 0;
  const place = (tensor: TensorProto, length: number, write: (at: number) => void): void => {
    const align = length >= PAGE_ALIGN_FROM ? PAGE : 64;
    offset = Math.ceil(offset / align) * align;
    write(offset);
    tensor.external_data = [newEntry("location", location), newEntry("offset", String(offset)), newEntry("length", String(length))];
    tensor.data_location = DataLocation.EXTERNAL;
    delete tensor.raw_data;
    offset += length;
  };
  try {
    forEachTensor(model, (tensor) => {
      if (isExternal(tensor)) {
        const ref = externalRef(tensor, sourceDir);
        const length = ref.length ?? fixedByteLength(tensor);
        if (length === null) throw new OptimizeError(ref.file, `tensor "${tensor.name}" has no external length`);
        place(tensor, length, (at) => copyRange(ref.file, ref.offset, length, fd, at));
      } else if (tensor.raw_data && tensor.raw_data.length >= INLINE_MAX_BYTES) {
        const data = tensor.raw_data;
        place(tensor, data.length, (at) => writeAll(fd, data, at));
      }
    });
  } finally {
    closeSync(fd);
  }
  return offset;
}

function copyRange(source: string, from: number, length: number, fd: number, at: number): void {
  for (let done = 0; done < length; done += COPY_CHUNK) {
    const n = Math.min(COPY_CHUNK, length - done);
    writeAll(fd, readRange(source, from + done, n), at + done);
  }
}

function writeAll(fd: number, data: Uint8Array, at: number): void {
  let done = 0;
  while (done < data.length) done += writeSync(fd, data, done, data.length - done, at + done);
}
