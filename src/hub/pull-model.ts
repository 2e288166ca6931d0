/**
 * pullModel: a Hub repo's servable files into a folder, the programmatic
 * form of `pull` (the CLI, and the server for `--model owner/name`).
 *
 * Offline when it can be: a folder whose manifest shows an earlier pull of
 * the same repo, revision and dtype, every file there at its size, is up to
 * date without a single request. Otherwise: the revision's commit, the
 * listing at that commit (so every file comes from one snapshot even if the
 * branch moves meanwhile), the plan (pull-plan.ts), and the files not
 * already there, one after another, each verified before it takes its name.
 */
import { mkdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import type { FileDtype, ModelDtype } from "../model/dtype-files.ts";
import { isHubRepoId } from "../model/model-source.ts";
import { listedHash } from "./content-hash.ts";
import { downloadFile } from "./file-download.ts";
import { checkEndpoint, hubEndpoint, hubToken } from "./hub-env.ts";
import { HubError } from "./hub-error.ts";
import { resolveUrl, type RepoRef } from "./hub-urls.ts";
import { localCopy } from "./local-files.ts";
import { formatBytes, formatSeconds } from "./progress-format.ts";
import { readManifest, upToDatePull, withPull, writeManifest, type ManifestFile, type PullManifest, type PullRecord } from "./pull-manifest.ts";
import { planPull, repoLayout } from "./pull-plan.ts";
import { createProgress, type PullOutput, type PullProgress } from "./pull-progress.ts";
import { listRepoFiles, resolveCommit, type RepoFile } from "./repo-listing.ts";
import { DEFAULT_RETRY, type RetryPolicy } from "./retry.ts";

export interface PullOptions {
  /** owner/name */
  repo: string;
  /** Branch, tag or commit; default main. */
  revision?: string;
  /** Which ONNX file, as the server's --dtype; default auto. */
  dtype?: ModelDtype;
  /** What auto chooses for; default cpu. */
  device?: "cpu" | "cuda";
  /** The folder to fill (model-source.ts's hubModelDir for --models-dir). */
  dir: string;
  /** Default: HF_ENDPOINT, else https://huggingface.co. */
  endpoint?: string;
  /** Default: HF_TOKEN; null sends none. */
  token?: string | null;
  /** Progress and the summary; default stderr (stdout may carry the server's JSON log). */
  output?: PullOutput;
  /** Ask the Hub even when the manifest says up to date: fetches what changed on the revision since. */
  refresh?: boolean;
  /** Tries and waits for transient failures; default 4 retries from 0.5 s. */
  retry?: RetryPolicy;
}

export interface PulledFile {
  /** Relative to the folder, as in the repo. */
  path: string;
  size: number;
  sha256: string;
}

export interface PullResult {
  dir: string;
  repo: string;
  revision: string;
  /** The commit the files come from. */
  commit: string;
  /** The dtype of the ONNX file pulled (auto resolved). */
  dtype: FileDtype;
  /** The ONNX file's path in the folder. */
  onnxFile: string;
  files: PulledFile[];
  /** What this call fetched: 0 and 0 when everything was there. */
  downloadedFiles: number;
  downloadedBytes: number;
  /** True when the manifest answered and no request was made. */
  upToDate: boolean;
}

interface Pull {
  ref: RepoRef;
  label: string;
  dir: string;
  requested: ModelDtype;
  device: "cpu" | "cuda";
  token: string | null;
  retry: RetryPolicy;
  output: PullOutput;
}

export async function pullModel(options: PullOptions): Promise<PullResult> {
  const pull = settle(options);
  const manifest = readManifest(pull.dir, pull.ref.repo, pull.ref.revision);
  if (manifest && options.refresh !== true) {
    const record = upToDatePull(pull.dir, manifest, pull.requested, pull.device);
    if (record) {
      pull.output.write(`${pull.label} is up to date in ${pull.dir} (dtype ${record.dtype}, commit ${short(record.commit)}): nothing to download\n`);
      return result(pull, record, manifest, 0, 0, true);
    }
  }

  const started = performance.now();
  const commit = await resolveCommit({ ref: pull.ref, token: pull.token, retry: pull.retry });
  // Pinned to the commit: a branch that moves during the pull cannot mix two snapshots.
  const pinned: RepoRef = { ...pull.ref, revision: commit };
  const listing = await listRepoFiles({ ref: pinned, token: pull.token, retry: pull.retry });
  mkdirSync(pull.dir, { recursive: true });
  let state: PullManifest = manifest ?? { repo: pull.ref.repo, revision: pull.ref.revision, endpoint: pull.ref.endpoint, files: {}, pulls: [] };

  let decoderFile: string | null = null;
  // What was fetched before the plan (genai_config.json), counted in the summary with the rest.
  let early = { files: 0, received: 0 };
  if (repoLayout(listing, pull.label) === "genai") ({ decoderFile, state, early } = await genaiDecoderFile(pull, pinned, listing, state));
  const plan = planPull(listing, { dtype: pull.requested, device: pull.device }, decoderFile, pull.label);

  const have: Record<string, ManifestFile> = {};
  const missing: RepoFile[] = [];
  for (const file of plan.files) {
    const copy = await localCopy(pull.dir, file, state.files[file.path]);
    if (copy) have[file.path] = copy;
    else missing.push(file);
  }
  state = { ...state, endpoint: pull.ref.endpoint, files: { ...state.files, ...have } };

  const bytes = missing.reduce((sum, f) => sum + f.size, 0);
  pull.output.write(
    `pulling ${pull.label} (commit ${short(commit)}) into ${pull.dir}: dtype ${plan.dtype} (${plan.onnxFile}), ${missing.length} of ${plan.files.length} files to download, ${formatBytes(bytes)}\n`,
  );
  const progress = createProgress(pull.output);
  let received = early.received;
  try {
    progress.start(bytes, missing.length);
    for (const file of missing) {
      const fetched = await fetchInto(pull, pinned, file, state, progress);
      state = fetched.state;
      received += fetched.received;
    }
  } finally {
    progress.close();
  }

  const record: PullRecord = { commit, requested: pull.requested, device: pull.device, dtype: plan.dtype, onnxFile: plan.onnxFile, files: plan.files.map((f) => f.path) };
  state = withPull(state, record);
  writeManifest(pull.dir, state);
  const seconds = (performance.now() - started) / 1000;
  const fetched = missing.length + early.files;
  pull.output.write(
    `pulled ${pull.label} (commit ${short(commit)}, dtype ${plan.dtype}): ${fetched} file${fetched === 1 ? "" : "s"}, ${formatBytes(received)} downloaded in ${formatSeconds(seconds)}, ${plan.files.length - fetched} already there; ${pull.dir}\n`,
  );
  return result(pull, record, state, fetched, received, false);
}

/** Options checked and defaulted once; a bad one is a HubError before anything is read. */
function settle(options: PullOptions): Pull {
  if (!isHubRepoId(options.repo)) throw new HubError(`"${options.repo}" is not a Hub repo id (owner/name)`);
  const revision = (options.revision ?? "main").trim();
  if (revision === "") throw new HubError("the revision must not be empty");
  const endpoint = options.endpoint === undefined ? hubEndpoint(process.env) : checkEndpoint(options.endpoint, "endpoint");
  return {
    ref: { endpoint, repo: options.repo, revision },
    label: `${options.repo}@${revision}`,
    dir: resolve(options.dir),
    requested: options.dtype ?? "auto",
    device: options.device ?? "cpu",
    token: options.token === undefined ? hubToken(process.env) : options.token,
    retry: options.retry ?? DEFAULT_RETRY,
    output: options.output ?? process.stderr,
  };
}

/** Downloads one file and records it in the manifest at once, so a killed pull keeps it. */
async function fetchInto(pull: Pull, pinned: RepoRef, file: RepoFile, state: PullManifest, progress: PullProgress): Promise<{ state: PullManifest; received: number }> {
  const { sha256, received } = await downloadFile({
    url: resolveUrl(pinned, file.path),
    ref: pull.ref,
    token: pull.token,
    file,
    dest: join(pull.dir, file.path),
    retry: pull.retry,
    progress,
  });
  const next = { ...state, files: { ...state.files, [file.path]: { size: file.size, sha256, listedHash: listedHash(file) } } };
  writeManifest(pull.dir, next);
  return { state: next, received };
}

/**
 * genai_config.json's model.decoder.filename, which names the fp32 file of
 * the genai layout: the config is fetched first (it is one of the files
 * served anyway), quietly, since it is a few hundred bytes.
 */
async function genaiDecoderFile(pull: Pull, pinned: RepoRef, listing: RepoFile[], state: PullManifest): Promise<{ decoderFile: string | null; state: PullManifest; early: { files: number; received: number } }> {
  const file = listing.find((f) => f.path === "genai_config.json");
  if (!file) return { decoderFile: null, state, early: { files: 0, received: 0 } };
  const copy = await localCopy(pull.dir, file, state.files[file.path]);
  const fetched = copy ? null : await fetchInto(pull, pinned, file, state, silentProgress);
  let config: unknown;
  try {
    config = JSON.parse(readFileSync(join(pull.dir, file.path), "utf8"));
  } catch (error) {
    throw new HubError(`${pull.label}: genai_config.json is not JSON (${(error as Error).message})`);
  }
  const decoder = (config as { model?: { decoder?: { filename?: unknown } } } | null)?.model?.decoder;
  return {
    decoderFile: typeof decoder?.filename === "string" ? decoder.filename : null,
    state: fetched?.state ?? state,
    early: { files: fetched ? 1 : 0, received: fetched?.received ?? 0 },
  };
}

const silentProgress: PullProgress = { start() {}, beginFile() {}, setHave() {}, advance() {}, endFile() {}, close() {} };

function result(pull: Pull, record: PullRecord, manifest: PullManifest, downloadedFiles: number, downloadedBytes: number, upToDate: boolean): PullResult {
  return {
    dir: pull.dir,
    repo: pull.ref.repo,
    revision: pull.ref.revision,
    commit: record.commit,
    dtype: record.dtype,
    onnxFile: record.onnxFile,
    files: record.files.map((path) => ({ path, size: manifest.files[path].size, sha256: manifest.files[path].sha256 })),
    downloadedFiles,
    downloadedBytes,
    upToDate,
  };
}

const short = (commit: string): string => commit.slice(0, 7);
