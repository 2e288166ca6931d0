/**
 * The Hub's URLs for one repo. The revision is one path segment even when it
 * holds slashes (refs/pr/1), so it is percent-encoded whole; a file path
 * keeps its slashes and encodes each segment.
 */
export interface RepoRef {
  endpoint: string;
  repo: string;
  revision: string;
}

const encodePath = (path: string): string => path.split("/").map(encodeURIComponent).join("/");

/** The commit a revision points at (its `sha`). */
export function revisionUrl(ref: RepoRef): string {
  return `${ref.endpoint}/api/models/${ref.repo}/revision/${encodeURIComponent(ref.revision)}`;
}

/** Every file of the revision, with sizes and LFS hashes; the Hub pages it with a Link header. */
export function treeUrl(ref: RepoRef): string {
  return `${ref.endpoint}/api/models/${ref.repo}/tree/${encodeURIComponent(ref.revision)}?recursive=true`;
}

/** One file's bytes (LFS files answer with a redirect to a content host). */
export function resolveUrl(ref: RepoRef, path: string): string {
  return `${ref.endpoint}/${ref.repo}/resolve/${encodeURIComponent(ref.revision)}/${encodePath(path)}`;
}

/** The repo's page, where a gated model's licence is accepted. */
export function repoPageUrl(ref: Pick<RepoRef, "endpoint" | "repo">): string {
  return `${ref.endpoint}/${ref.repo}`;
}
