/**
 * The ONNX protobuf messages, from the vendored official schema
 * (onnx-schema/), and TypeScript shapes for the fields the optimizer reads
 * or writes. Decoded messages are protobufjs instances: every field the
 * schema knows survives a decode/encode round trip, including the ones
 * typed loosely here.
 */
import protobuf from "protobufjs";
import { onnxDescriptor } from "./onnx-schema/onnx-descriptor.ts";

const root = protobuf.Root.fromJSON(onnxDescriptor);
export const ModelProtoType = root.lookupType("onnx.ModelProto");
export const TensorProtoType = root.lookupType("onnx.TensorProto");
export const NodeProtoType = root.lookupType("onnx.NodeProto");
export const AttributeProtoType = root.lookupType("onnx.AttributeProto");
export const GraphProtoType = root.lookupType("onnx.GraphProto");
export const ValueInfoProtoType = root.lookupType("onnx.ValueInfoProto");
export const OperatorSetIdProtoType = root.lookupType("onnx.OperatorSetIdProto");
export const StringStringEntryProtoType = root.lookupType("onnx.StringStringEntryProto");

/** int64 fields decode as Long (protobufjs uses the `long` package when present) or number. */
export type Int64 = number | { toNumber(): number };

export function int64ToNumber(value: Int64 | null | undefined): number {
  if (value === null || value === undefined) return 0;
  return typeof value === "number" ? value : value.toNumber();
}

/** TensorProto.DataType values used here (the field itself is an int32, so newer types pass through). */
export const DataType = { FLOAT: 1, UINT8: 2, INT64: 7, FLOAT16: 10, DOUBLE: 11, BFLOAT16: 16 } as const;
export const DataLocation = { DEFAULT: 0, EXTERNAL: 1 } as const;
export const AttributeType = { FLOAT: 1, INT: 2, STRING: 3, TENSOR: 4, GRAPH: 5, INTS: 7, GRAPHS: 10 } as const;

export interface StringStringEntry {
  key: string;
  value: string;
}

export interface TensorProto {
  name: string;
  dims: Int64[];
  data_type: number;
  raw_data?: Uint8Array;
  float_data: number[];
  int32_data: number[];
  int64_data: Int64[];
  double_data: number[];
  uint64_data: Int64[];
  string_data: Uint8Array[];
  external_data: StringStringEntry[];
  data_location?: number;
  segment?: unknown;
}

export interface AttributeProto {
  name: string;
  type?: number;
  i?: Int64;
  f?: number;
  s?: Uint8Array;
  ints: Int64[];
  t?: TensorProto;
  g?: GraphProto;
  graphs: GraphProto[];
}

export interface NodeProto {
  input: string[];
  output: string[];
  name?: string;
  op_type: string;
  domain?: string;
  attribute: AttributeProto[];
  doc_string?: string;
}

export interface ValueInfoProto {
  name: string;
}

export interface GraphProto {
  name?: string;
  node: NodeProto[];
  initializer: TensorProto[];
  sparse_initializer: unknown[];
  input: ValueInfoProto[];
  output: ValueInfoProto[];
  value_info: ValueInfoProto[];
}

export interface OperatorSetId {
  domain?: string;
  version: Int64;
}

export interface FunctionProto {
  name: string;
  node: NodeProto[];
}

export interface ModelProto {
  ir_version?: Int64;
  opset_import: OperatorSetId[];
  producer_name?: string;
  graph?: GraphProto;
  functions: FunctionProto[];
  training_info: unknown[];
}

export function decodeModel(bytes: Uint8Array): ModelProto {
  return ModelProtoType.decode(bytes) as unknown as ModelProto;
}

export function encodeModel(model: ModelProto): Uint8Array {
  return ModelProtoType.encode(model as unknown as protobuf.Message).finish();
}

/**
 * The encoded size without building the buffer (protobufjs sums the
 * lengths before it allocates): cheap even for a model of a gigabyte.
 */
export function encodedModelLength(model: ModelProto): number {
  return ModelProtoType.encode(model as unknown as protobuf.Message).len;
}

export function newTensor(fields: Partial<TensorProto> & Pick<TensorProto, "name" | "dims" | "data_type">): TensorProto {
  return TensorProtoType.create(fields) as unknown as TensorProto;
}

export function newNode(fields: Partial<NodeProto> & Pick<NodeProto, "input" | "output" | "op_type">): NodeProto {
  return NodeProtoType.create(fields) as unknown as NodeProto;
}

export function intAttribute(name: string, value: number): AttributeProto {
  return AttributeProtoType.create({ name, type: AttributeType.INT, i: value }) as unknown as AttributeProto;
}

export function newOpsetId(domain: string, version: number): OperatorSetId {
  return OperatorSetIdProtoType.create({ domain, version }) as unknown as OperatorSetId;
}

export function newEntry(key: string, value: string): StringStringEntry {
  return StringStringEntryProtoType.create({ key, value }) as unknown as StringStringEntry;
}
