/**
 * Which model folders to measure, and what every request to one needs: the
 * served id, the EOS ids to suppress, and a fixed prompt of ordinary token ids.
 */
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { loadModelFolder } from "../src/model/model-folder.ts";
import { loadTokenizer } from "../src/model/tokenizer.ts";

export const REPO_ROOT = fileURLToPath(new URL("..", import.meta.url));
const TINY_CHAT = resolve(REPO_ROOT, "models/tiny-chat");
const SMOLLM_SHAPE = resolve(REPO_ROOT, "models/.cache/smollm2-135m-shape");
const DEV_FIXTURE = resolve(REPO_ROOT, "../shared/fixtures/models/tiny-random-LlamaForCausalLM-fp32-reconstructed");
const SMOLLM_RECIPE = "python3 models/recipe/export_untrained.py --shape smollm2-135m --out models/.cache/smollm2-135m-shape";

export interface BenchModel {
  dir: string;
  /** The id the server serves it under (the folder's basename). */
  name: string;
  onnxPath: string;
  eosIds: number[];
  promptIds: number[];
  contextLength: number;
  numKeyValueHeads: number | null;
  headDim: number | null;
}

/** Folders to measure; prints one line for each default that is missing and what was done instead. */
export function resolveModelDirs(requested: string[], note: (line: string) => void): string[] {
  if (requested.length > 0) {
    return requested.map((p) => resolve(p)).filter((dir) => {
      if (existsSync(dir)) return true;
      note(`skipping ${dir}: not found`);
      return false;
    });
  }
  const dirs: string[] = [];
  if (existsSync(TINY_CHAT)) dirs.push(TINY_CHAT);
  else if (existsSync(DEV_FIXTURE)) {
    note(`models/tiny-chat not found (not trained yet?): using the development fixture ${DEV_FIXTURE}; the real bench must use models/tiny-chat`);
    dirs.push(DEV_FIXTURE);
  } else note("models/tiny-chat not found (build it with models/recipe/build.py)");
  if (existsSync(SMOLLM_SHAPE)) dirs.push(SMOLLM_SHAPE);
  else note(`skipping the SmolLM2-135M shape: models/.cache/smollm2-135m-shape not found; produce it with: ${SMOLLM_RECIPE}`);
  return dirs;
}

const PROMPT_TEXT = "The quick brown fox jumps over the lazy dog while the farmer counts his sheep in the field. ";

export function loadBenchModel(dir: string, promptLength: number): BenchModel {
  const folder = loadModelFolder(dir);
  const tokenizer = loadTokenizer(folder);
  const text = tokenizer.plain.encode(PROMPT_TEXT.repeat(8), { add_special_tokens: false });
  const ordinary = text.ids.filter((id: number) => !tokenizer.specialIds.has(id) && !folder.special.eos.includes(id));
  if (ordinary.length === 0) throw new Error(`${dir}: the tokenizer produced no ordinary ids for the prompt text`);
  const promptIds = Array.from({ length: promptLength }, (_, i) => ordinary[i % ordinary.length]);
  return {
    dir: folder.dir,
    name: folder.name,
    onnxPath: folder.onnxPath,
    eosIds: [...folder.special.eos],
    promptIds,
    contextLength: folder.contextLength,
    numKeyValueHeads: folder.numKeyValueHeads,
    headDim: folder.headDim,
  };
}
