/**
 * Appends nodes and initializers to a graph under construction: unique
 * names, each reused initializer listed once, and the attribute kinds the
 * fused layout needs (int, float, tensor).
 */
import { uniqueName } from "../graph-queries.ts";
import {
  AttributeProtoType,
  AttributeType,
  DataType,
  intAttribute,
  newNode,
  newTensor,
  type AttributeProto,
  type NodeProto,
  type TensorProto,
} from "../onnx-proto.ts";

export const MS_DOMAIN = "com.microsoft";

export function floatAttribute(name: string, value: number): AttributeProto {
  return AttributeProtoType.create({ name, type: AttributeType.FLOAT, f: value }) as unknown as AttributeProto;
}

export function tensorAttribute(name: string, t: TensorProto): AttributeProto {
  return AttributeProtoType.create({ name, type: AttributeType.TENSOR, t }) as unknown as AttributeProto;
}

export function intsAttribute(name: string, values: number[]): AttributeProto {
  return AttributeProtoType.create({ name, type: AttributeType.INTS, ints: values }) as unknown as AttributeProto;
}

export { intAttribute };

export class GraphBuilder {
  readonly nodes: NodeProto[] = [];
  readonly initializers: TensorProto[] = [];
  private readonly listed = new Set<TensorProto>();

  constructor(private readonly taken: Set<string>) {}

  name(base: string): string {
    return uniqueName(this.taken, base);
  }

  /** Adds a node; returns its outputs' names. */
  node(opType: string, inputs: string[], outputs: string[], name: string, attribute: AttributeProto[] = [], domain = ""): string[] {
    this.nodes.push(newNode({ op_type: opType, input: inputs, output: outputs, name: this.name(name), attribute, domain }));
    return outputs;
  }

  /** One output named after the node, as the model builder names them: "<node>/output_0". */
  op(opType: string, inputs: string[], name: string, attribute: AttributeProto[] = [], domain = ""): string {
    return this.node(opType, inputs, [this.name(`${name}/output_0`)], name, attribute, domain)[0];
  }

  /** Lists an initializer (once, however often it is read); returns its name. */
  use(tensor: TensorProto): string {
    if (!this.listed.has(tensor)) {
      this.listed.add(tensor);
      this.initializers.push(tensor);
    }
    return tensor.name;
  }

  /** A new float32 initializer. */
  floats(base: string, shape: number[], values: Float32Array): string {
    const bytes = new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
    return this.use(newTensor({ name: this.name(base), dims: shape, data_type: DataType.FLOAT, raw_data: bytes }));
  }

  /** A Constant node holding int64 or int32 values of the given shape ([] for a scalar). */
  intConstant(base: string, shape: number[], values: number[], dataType: number = DataType.INT64): string {
    const wide = dataType === DataType.INT64;
    const raw = wide ? new Uint8Array(BigInt64Array.from(values.map(BigInt)).buffer) : new Uint8Array(Int32Array.from(values).buffer);
    const value = newTensor({ name: `${base}/value`, dims: shape, data_type: dataType, raw_data: raw });
    return this.node("Constant", [], [this.name(base)], `${base}/Constant`, [tensorAttribute("value", value)])[0];
  }
}
