/**
 * Which ONNX file of a folder --dtype names, by the file names transformers.js
 * and the onnx-community repos use (fp32 -> model.onnx, q8 ->
 * model_quantized.onnx, every other dtype -> model_<dtype>.onnx; older
 * Optimum exports name a merged decoder decoder_model_merged*.onnx), and
 * what `auto` picks. Pure: the caller says which files exist. Shared by the
 * model folder loader and `pull`, which fetches only the chosen file.
 */
export const MODEL_DTYPES = ["auto", "fp32", "fp32-fused", "fp16", "q8", "int8", "uint8", "q4", "q4f16", "bnb4"] as const;
export type ModelDtype = (typeof MODEL_DTYPES)[number];
/** A dtype that names one file (every dtype but auto). */
export type FileDtype = Exclude<ModelDtype, "auto">;
export const FILE_DTYPES: readonly FileDtype[] = MODEL_DTYPES.filter((d): d is FileDtype => d !== "auto");

const SUFFIX: Record<FileDtype, string> = {
  fp32: "",
  // The optimizer's fused, unquantized graph (optimize --dtype fp32 --fuse); transformers.js has no name for it.
  "fp32-fused": "_fused",
  fp16: "_fp16",
  q8: "_quantized",
  int8: "_int8",
  uint8: "_uint8",
  q4: "_q4",
  q4f16: "_q4f16",
  bnb4: "_bnb4",
};

/** The file names a dtype may have, in the order they are looked for. */
export function dtypeFileNames(dtype: FileDtype): string[] {
  return [`model${SUFFIX[dtype]}.onnx`, `decoder_model_merged${SUFFIX[dtype]}.onnx`];
}

/**
 * `auto` without a model.onnx: the first of these the folder has.
 *
 * CPU: measured on the 135M shape through the server (batch-1 decode,
 * paired rounds; docs/API.md): 4-bit MatMulNBits 2.7-3.2x the fp32 export,
 * 8-bit 2.5-2.7x, the fused fp32 graph 1.25x, and an fp16 conversion of
 * the export the same speed as fp32 (39.2 against 39.9 tok/s): the CPU
 * provider gains nothing from half precision on x86. onnx-community's
 * int8/uint8 (dynamic quantization) and bnb4 files were not measured and
 * sit after the block-quantized ones; the half-precision files last.
 *
 * CUDA: half precision first (what the GPU kernels are made for), then the
 * 4-bit files, then the rest.
 */
export const AUTO_ORDER: Record<"cpu" | "cuda", readonly FileDtype[]> = {
  cpu: ["q4", "q8", "fp32-fused", "int8", "uint8", "bnb4", "q4f16", "fp16"],
  cuda: ["fp16", "q4f16", "fp32-fused", "q4", "q8", "int8", "uint8", "bnb4"],
};

export interface DtypeChoice {
  dtype: FileDtype;
  /** The chosen file's name. */
  file: string;
  /** Every dtype the folder has a file for, for the load line and errors. */
  available: FileDtype[];
}

/** What was asked for and is not there: the message lists what is. */
export interface DtypeMissing {
  requested: ModelDtype;
  expected: string[];
  available: FileDtype[];
}

/** Chooses a file among `has(name)`; null `file` means nothing matched. */
export function chooseDtypeFile(has: (name: string) => boolean, requested: ModelDtype, device: "cpu" | "cuda"): DtypeChoice | DtypeMissing {
  const fileOf = (d: FileDtype): string | undefined => dtypeFileNames(d).find(has);
  const available = FILE_DTYPES.filter((d) => fileOf(d) !== undefined);
  const order: readonly FileDtype[] = requested === "auto" ? ["fp32", ...AUTO_ORDER[device]] : [requested];
  for (const dtype of order) {
    const file = fileOf(dtype);
    if (file) return { dtype, file, available };
  }
  return { requested, expected: requested === "auto" ? FILE_DTYPES.flatMap((d) => dtypeFileNames(d).slice(0, 1)) : dtypeFileNames(requested), available };
}

export function isDtypeMissing(choice: DtypeChoice | DtypeMissing): choice is DtypeMissing {
  return "requested" in choice;
}
