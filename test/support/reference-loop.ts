/**
 * An independent greedy loop over an Optimum-layout model, written apart
 * from src/worker on purpose: its own feeds, its own cache handling, plain
 * onnxruntime-node. Used as a reference the engine must agree with.
 */
import * as ort from "onnxruntime-node";

export async function referenceGreedy(onnxPath: string, promptIds: number[], steps: number, eosIds: number[]): Promise<number[]> {
  const session = await ort.InferenceSession.create(onnxPath, { intraOpNumThreads: 1 });
  const pastNames = session.inputNames.filter((n) => n.startsWith("past_key_values."));
  const meta = session.inputMetadata.find((m) => m.name === pastNames[0]);
  const shape = meta && meta.isTensor ? meta.shape : [];
  const heads = Number(shape[1]);
  const headDim = Number(shape[3]);
  const int64 = (values: number[], dims: number[]): ort.Tensor => new ort.Tensor("int64", BigInt64Array.from(values.map(BigInt)), dims);

  let past: Record<string, ort.Tensor> = {};
  for (const name of pastNames) past[name] = new ort.Tensor("float32", new Float32Array(0), [1, heads, 0, headDim]);
  const out: number[] = [];
  let input = promptIds;
  let length = 0;
  for (let step = 0; step < steps; step++) {
    const total = length + input.length;
    const feeds: Record<string, ort.Tensor> = {
      ...past,
      input_ids: int64(input, [1, input.length]),
      attention_mask: int64(Array(total).fill(1), [1, total]),
      position_ids: int64(input.map((_, i) => length + i), [1, input.length]),
    };
    const result = await session.run(feeds);
    const logits = result.logits!;
    const vocab = logits.dims[2];
    const last = (logits.data as Float32Array).subarray((input.length - 1) * vocab, input.length * vocab);
    let best = 0;
    for (let i = 1; i < vocab; i++) if (last[i] > last[best]) best = i;
    out.push(best);
    if (eosIds.includes(best)) break;
    past = {};
    for (const name of pastNames) past[name] = result[name.replace("past_key_values.", "present.")];
    length = total;
    input = [best];
  }
  await session.release();
  return out;
}
