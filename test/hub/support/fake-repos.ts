/**
 * The repos the fake Hub serves, made from the project's own model
 * (models/tiny-chat): the Optimum layout with three real ONNX files, plus
 * an fp16 entry whose bytes are not a model but whose external data files
 * (model_fp16.onnx_data, model_fp16.onnx_data_1) show that a pull fetches
 * them; the same files in the genai layout; and a gated copy.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { tinyChat } from "../../support/fixtures.ts";
import type { FakeRepo } from "./fake-hub.ts";

export const TINY_REPO = "test-org/tiny-chat";
export const GENAI_REPO = "test-org/tiny-chat-genai";
export const GATED_REPO = "test-org/tiny-chat-gated";
export const GATED_TOKEN = "hf_fake_token_with_access";

const read = (path: string): Buffer => readFileSync(join(tinyChat, path));

/** Bytes that differ from file to file, deterministically. */
const filler = (size: number, seed: number): Buffer => Buffer.from(Array.from({ length: size }, (_, i) => (i * 31 + seed * 7) & 0xff));

export const SERVING_FILES = ["config.json", "generation_config.json", "tokenizer.json", "tokenizer_config.json"];

export function tinyChatFiles(): Record<string, Buffer> {
  return {
    "README.md": read("README.md"),
    ".gitattributes": Buffer.from("*.onnx filter=lfs diff=lfs merge=lfs -text\n"),
    ...Object.fromEntries(SERVING_FILES.map((f) => [f, read(f)])),
    "onnx/model.onnx": read("onnx/model.onnx"),
    "onnx/model_q4.onnx": read("onnx/model_q4.onnx"),
    "onnx/model_quantized.onnx": read("onnx/model_quantized.onnx"),
    "onnx/model_fp16.onnx": filler(50_000, 1),
    "onnx/model_fp16.onnx_data": filler(300_000, 2),
    "onnx/model_fp16.onnx_data_1": filler(120_000, 3),
  };
}

export function genaiFiles(): Record<string, Buffer> {
  const genaiConfig = {
    model: {
      type: "llama",
      context_length: 512,
      vocab_size: 414,
      eos_token_id: [413, 411],
      bos_token_id: 412,
      pad_token_id: 411,
      decoder: { filename: "decoder.onnx", num_key_value_heads: 2, head_size: 48, hidden_size: 192, num_attention_heads: 4, num_hidden_layers: 6 },
    },
  };
  return {
    "genai_config.json": Buffer.from(JSON.stringify(genaiConfig, null, 2)),
    "tokenizer.json": read("tokenizer.json"),
    "tokenizer_config.json": read("tokenizer_config.json"),
    "decoder.onnx": read("onnx/model_q4.onnx"),
    "model_quantized.onnx": read("onnx/model_quantized.onnx"),
  };
}

export function fakeRepos(): FakeRepo[] {
  return [
    { id: TINY_REPO, files: tinyChatFiles() },
    { id: GENAI_REPO, files: genaiFiles() },
    { id: GATED_REPO, files: tinyChatFiles(), gatedToken: GATED_TOKEN },
  ];
}
