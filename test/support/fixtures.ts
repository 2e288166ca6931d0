/**
 * Where the test models are. The shipped default model (models/tiny-chat)
 * is in the repository, so tests on it run on every clone. The third-party
 * fixture models live outside the repository, in ../shared/fixtures/models;
 * tests that need them are skipped without it.
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { loadModelFolder } from "../../src/model/model-folder.ts";

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
export const fixturesDir = resolve(repoRoot, "../shared/fixtures/models");
export const haveFixtures = existsSync(join(fixturesDir, "README.md"));
export const fixturePath = (name: string): string => join(fixturesDir, name);
export const defaultModelPath = join(repoRoot, "models/tiny-chat");
export const haveDefaultModel = existsSync(join(defaultModelPath, "onnx/model.onnx"));
/** The shipped 2.5M-parameter chat model (context 512, ChatML, EOS 413 and 411). */
export const tinyChat = defaultModelPath;

const eosCache = new Map<string, number[]>();

/** The ids that end a generation of the model in `modelPath`, as the engine resolves them. */
export function eosIds(modelPath: string): number[] {
  let ids = eosCache.get(modelPath);
  if (!ids) {
    ids = loadModelFolder(modelPath).special.eos;
    if (ids.length === 0) throw new Error(`${modelPath} has no EOS id to ban`);
    eosCache.set(modelPath, ids);
  }
  return ids;
}

/**
 * A `logit_bias` (wire form) that bans every EOS id of the model: with it a
 * row runs exactly to max_tokens and ends with finish_reason "length", so
 * tests that need a row to keep running do not depend on what the model
 * would choose to say.
 */
export function eosBan(modelPath: string): Record<string, number> {
  return Object.fromEntries(eosIds(modelPath).map((id) => [String(id), -100]));
}

/** The same ban as the engine's `SamplingParams.logitBias` pairs. */
export function eosBanPairs(modelPath: string): Array<[number, number]> {
  return eosIds(modelPath).map((id) => [id, -100]);
}

/** One of the default model's checked chat examples (models/tiny-chat/eval/examples.jsonl) and its exact greedy answer. */
export interface DefaultModelExample {
  skill: string;
  messages: Array<{ role: "user"; content: string }>;
  answer: string;
}

export function defaultModelExamples(): DefaultModelExample[] {
  return readFileSync(join(defaultModelPath, "eval/examples.jsonl"), "utf8")
    .split("\n")
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as DefaultModelExample);
}
