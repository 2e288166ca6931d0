/**
 * The third-party fixture models live outside the repository, in
 * ../shared/fixtures/models; tests that need them are skipped without it.
 */
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
export const fixturesDir = resolve(repoRoot, "../shared/fixtures/models");
export const haveFixtures = existsSync(join(fixturesDir, "README.md"));
export const fixturePath = (name: string): string => join(fixturesDir, name);
export const defaultModelPath = join(repoRoot, "models/tiny-chat");
export const haveDefaultModel = existsSync(join(defaultModelPath, "onnx/model.onnx"));
