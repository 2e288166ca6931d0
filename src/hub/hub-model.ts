/**
 * Serving `--model owner/name`: the folder under --models-dir, pulled first
 * when --pull missing allows it (pullModel makes no request when its
 * manifest shows the folder complete), or refused with the command that
 * fetches it when --pull never forbids the network.
 */
import type { ServerConfig } from "../config.ts";
import { ModelLoadError } from "../model/model-load-error.ts";
import type { ModelSource } from "../model/model-source.ts";
import { readManifest, upToDatePull } from "./pull-manifest.ts";
import { pullModel } from "./pull-model.ts";
import type { PullOutput } from "./pull-progress.ts";

type HubSource = Extract<ModelSource, { kind: "hub" }>;

/** The local folder to serve; rejects with a one-line reason (ModelLoadError or HubError). */
export async function ensureHubModel(
  source: HubSource,
  config: Pick<ServerConfig, "pull" | "dtype" | "device">,
  output: PullOutput,
): Promise<string> {
  if (config.pull === "never") {
    const manifest = readManifest(source.dir, source.repo, source.revision);
    if (!manifest || !upToDatePull(source.dir, manifest, config.dtype, config.device)) {
      const revision = source.revision === "main" ? "" : ` --revision ${source.revision}`;
      const dtype = config.dtype === "auto" ? "" : ` --dtype ${config.dtype}`;
      throw new ModelLoadError(
        source.dir,
        `${source.repo} is not pulled here (--pull never): run npm run pull -- ${source.repo}${revision}${dtype}, or start with --pull missing`,
      );
    }
    return source.dir;
  }
  await pullModel({ repo: source.repo, revision: source.revision, dtype: config.dtype, device: config.device, dir: source.dir, output });
  return source.dir;
}
