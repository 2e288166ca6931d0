/**
 * What --model names: a model folder on disk, or a Hub repo id (owner/name)
 * kept under --models-dir. An existing folder always wins, so a relative
 * path that happens to look like an id is still a path.
 */
import { join } from "node:path";

/** The Hub's own rule for repo ids: owner/name of letters, digits, '-', '_' and '.', no '..', no leading or trailing '-' or '.'. */
const REPO_ID = /^[A-Za-z0-9](?:[\w.-]*[A-Za-z0-9])?\/[A-Za-z0-9_](?:[\w.-]*[\w])?$/;

export function isHubRepoId(value: string): boolean {
  return value.length <= 96 && REPO_ID.test(value) && !value.includes("..");
}

export type ModelSource = { kind: "folder"; dir: string } | { kind: "hub"; repo: string; revision: string; dir: string };

/** Where a Hub model lives under --models-dir: owner/name for main, owner/name@revision otherwise. */
export function hubModelDir(modelsDir: string, repo: string, revision: string): string {
  const [owner, name] = repo.split("/");
  return join(modelsDir, owner, revision === "main" ? name : `${name}@${revision.replace(/[^\w.-]/g, "_")}`);
}

/** `modelPath` as config.ts leaves it: an absolute path, or a Hub id it kept as given. */
export function modelSource(modelPath: string, modelsDir: string, revision: string): ModelSource {
  if (isHubRepoId(modelPath)) return { kind: "hub", repo: modelPath, revision, dir: hubModelDir(modelsDir, modelPath, revision) };
  return { kind: "folder", dir: modelPath };
}
