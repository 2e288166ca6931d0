/**
 * `.pull.json` in a pulled folder: what is there, from which repo and
 * commit, so that a second pull of the same repo, revision and dtype can
 * say "up to date" without asking the Hub anything (the server pulls at
 * every start, and may start where there is no network), and a pull of
 * another dtype knows which files it need not fetch again.
 *
 * It is rewritten after every verified file, so a pull that is killed
 * half-way keeps what it finished. It is a cache of facts, not a source of
 * truth: unreadable, or for another repo, it counts as absent.
 */
import { existsSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import { FILE_DTYPES, MODEL_DTYPES, type FileDtype, type ModelDtype } from "../model/dtype-files.ts";

export const MANIFEST_FILE = ".pull.json";

const FILE_ENTRY = z.object({
  size: z.number().int().nonnegative(),
  sha256: z.string(),
  /** The hash the listing gave (LFS sha256 or git blob id): equal means the same bytes. */
  listedHash: z.string(),
});

const PULL_RECORD = z.object({
  /** The commit the revision pointed at when this pull listed it. */
  commit: z.string(),
  /** What was asked for: a dtype, or auto. */
  requested: z.enum(MODEL_DTYPES),
  /** Auto's choice depends on the device; a dtype named outright does not. */
  device: z.enum(["cpu", "cuda"]),
  dtype: z.enum(FILE_DTYPES as [FileDtype, ...FileDtype[]]),
  onnxFile: z.string(),
  files: z.array(z.string()),
});

const MANIFEST = z.object({
  repo: z.string(),
  revision: z.string(),
  endpoint: z.string(),
  files: z.record(z.string(), FILE_ENTRY),
  pulls: z.array(PULL_RECORD),
});

export type ManifestFile = z.infer<typeof FILE_ENTRY>;
export type PullRecord = z.infer<typeof PULL_RECORD>;
export type PullManifest = z.infer<typeof MANIFEST>;

/** The folder's manifest when it is one of `repo` at `revision`; null otherwise. */
export function readManifest(dir: string, repo: string, revision: string): PullManifest | null {
  const path = join(dir, MANIFEST_FILE);
  if (!existsSync(path)) return null;
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, "utf8"));
  } catch {
    return null;
  }
  const parsed = MANIFEST.safeParse(json);
  if (!parsed.success || parsed.data.repo !== repo || parsed.data.revision !== revision) return null;
  return parsed.data;
}

/** Written whole to a temp file and renamed, so a reader never sees half of it. */
export function writeManifest(dir: string, manifest: PullManifest): void {
  const path = join(dir, MANIFEST_FILE);
  writeFileSync(`${path}.tmp`, `${JSON.stringify(manifest, null, 2)}\n`);
  renameSync(`${path}.tmp`, path);
}

/** Whether an earlier pull answers this request: same dtype asked (and device, for auto), or auto chose this dtype. */
export function answers(record: PullRecord, requested: ModelDtype, device: "cpu" | "cuda"): boolean {
  if (requested === "auto") return record.requested === "auto" && record.device === device;
  return record.dtype === requested;
}

/** The earlier pull that answers the request with every file still on disk at its recorded size; null when the Hub must be asked. */
export function upToDatePull(dir: string, manifest: PullManifest, requested: ModelDtype, device: "cpu" | "cuda"): PullRecord | null {
  return manifest.pulls.find((record) => answers(record, requested, device) && record.files.every((path) => onDisk(dir, path, manifest.files[path]))) ?? null;
}

/** The file is at `dir/path` with the size the manifest gives (hashing every start would cost seconds per GB). */
export function onDisk(dir: string, path: string, entry: ManifestFile | undefined): boolean {
  if (!entry) return false;
  try {
    const stats = statSync(join(dir, path));
    return stats.isFile() && stats.size === entry.size;
  } catch {
    return false;
  }
}

/**
 * `record` in place of any earlier pull of the same request, and of every
 * pull at another commit: the revision moved, files they shared may have
 * changed since, so the next pull of those dtypes asks the Hub again (and
 * fetches only what differs).
 */
export function withPull(manifest: PullManifest, record: PullRecord): PullManifest {
  const kept = manifest.pulls.filter((p) => p.commit === record.commit && !(p.requested === record.requested && (p.requested !== "auto" || p.device === record.device)));
  return { ...manifest, pulls: [...kept, record] };
}
