/**
 * A TensorProto's bytes, wherever the file keeps them: raw_data, a typed
 * field (float_data, int32_data, ...), or an external data file named by
 * external_data (location, offset, length). External data is read per
 * tensor by offset, never as a whole file, so a data file of any size works.
 */
import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import { isAbsolute, join } from "node:path";
import { float16ToFloat32 } from "../generation/float16.ts";
import { DataLocation, DataType, int64ToNumber, type TensorProto } from "./onnx-proto.ts";
import { OptimizeError } from "./optimize-error.ts";

/** Bytes per element of the fixed-width types (TensorProto.DataType); undefined for string and sub-byte types. */
const ELEMENT_BYTES: Record<number, number> = {
  1: 4, 2: 1, 3: 1, 4: 2, 5: 2, 6: 4, 7: 8, 9: 1, 10: 2, 11: 8, 12: 4, 13: 8, 14: 8, 15: 16, 16: 2,
  17: 1, 18: 1, 19: 1, 20: 1, // the float8 types (ONNX 1.14)
};

export interface ExternalRef {
  /** Absolute path of the data file. */
  file: string;
  location: string;
  offset: number;
  /** Bytes; null when the entry leaves it out (the rest of the file). */
  length: number | null;
}

export function elementCount(tensor: TensorProto): number {
  return tensor.dims.reduce<number>((n, d) => n * int64ToNumber(d), 1);
}

export function dims(tensor: TensorProto): number[] {
  return tensor.dims.map(int64ToNumber);
}

export function isExternal(tensor: TensorProto): boolean {
  return tensor.data_location === DataLocation.EXTERNAL;
}

export function externalRef(tensor: TensorProto, modelDir: string): ExternalRef {
  const entry = (key: string): string | undefined => tensor.external_data.find((e) => e.key === key)?.value;
  const location = entry("location");
  if (!location) throw new OptimizeError(modelDir, `tensor "${tensor.name}" is stored externally but names no location`);
  const offset = Number(entry("offset") ?? 0);
  const lengthText = entry("length");
  const length = lengthText === undefined ? null : Number(lengthText);
  if (!Number.isSafeInteger(offset) || offset < 0 || (length !== null && (!Number.isSafeInteger(length) || length < 0))) {
    throw new OptimizeError(join(modelDir, location), `tensor "${tensor.name}" has a bad external offset/length`);
  }
  return { file: isAbsolute(location) ? location : join(modelDir, location), location, offset, length };
}

/** The byte size of the tensor's data as fixed-width little-endian values, or null when not fixed-width. */
export function fixedByteLength(tensor: TensorProto): number | null {
  const width = ELEMENT_BYTES[tensor.data_type];
  return width === undefined ? null : width * elementCount(tensor);
}

/** Reads `length` bytes at `offset` of `file`, refusing a range past its end (a truncated data file). */
export function readRange(file: string, offset: number, length: number): Buffer {
  let fd: number;
  try {
    fd = openSync(file, "r");
  } catch (error) {
    throw new OptimizeError(file, `cannot open external data file (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  try {
    const size = fstatSync(fd).size;
    if (offset + length > size) {
      throw new OptimizeError(file, `external data file is truncated: needs bytes up to ${offset + length}, has ${size}`);
    }
    const out = Buffer.allocUnsafe(length);
    let done = 0;
    while (done < length) {
      const n = readSync(fd, out, done, Math.min(length - done, 1 << 30), offset + done);
      if (n === 0) throw new OptimizeError(file, `unexpected end of external data at ${offset + done}`);
      done += n;
    }
    return out;
  } finally {
    closeSync(fd);
  }
}

/**
 * The tensor's data as raw little-endian bytes. Typed fields are converted
 * (float16 and bfloat16 sit in int32_data as their 16-bit patterns).
 */
export function tensorBytes(tensor: TensorProto, modelDir: string): Uint8Array {
  if (isExternal(tensor)) {
    const ref = externalRef(tensor, modelDir);
    const length = ref.length ?? fixedByteLength(tensor);
    if (length === null) throw new OptimizeError(ref.file, `tensor "${tensor.name}" has no external length and no fixed-width type`);
    return readRange(ref.file, ref.offset, length);
  }
  if (tensor.raw_data && tensor.raw_data.length > 0) return tensor.raw_data;
  switch (tensor.data_type) {
    case DataType.FLOAT:
      return bytesOf(Float32Array.from(tensor.float_data));
    case DataType.DOUBLE:
      return bytesOf(Float64Array.from(tensor.double_data));
    case DataType.FLOAT16:
    case DataType.BFLOAT16:
      return bytesOf(Uint16Array.from(tensor.int32_data));
    default:
      throw new OptimizeError(modelDir, `tensor "${tensor.name}" of type ${tensor.data_type} keeps its data in a typed field this tool does not read`);
  }
}

/** A float32 or float16 weight as float32 values; null for any other type (the caller leaves it alone). */
export function readFloatWeights(tensor: TensorProto, modelDir: string): Float32Array | null {
  if (tensor.data_type !== DataType.FLOAT && tensor.data_type !== DataType.FLOAT16) return null;
  const bytes = tensorBytes(tensor, modelDir);
  const expected = fixedByteLength(tensor)!;
  if (bytes.length !== expected) {
    throw new OptimizeError(modelDir, `tensor "${tensor.name}" holds ${bytes.length} bytes, its shape needs ${expected}`);
  }
  // Copy into an aligned buffer: raw_data is a slice of the file at any byte offset.
  const aligned = new Uint8Array(bytes.length);
  aligned.set(bytes);
  return tensor.data_type === DataType.FLOAT
    ? new Float32Array(aligned.buffer, 0, elementCount(tensor))
    : float16ToFloat32(new Uint16Array(aligned.buffer, 0, elementCount(tensor)));
}

function bytesOf(view: ArrayBufferView): Uint8Array {
  return new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
}
