/**
 * What a revision of a repo holds, from the Hub API: the commit it points
 * at, and every file with its size and hashes (the git blob id; for LFS
 * files also the sha256 of the content, which is what a download is
 * checked against). Both requests are retried like downloads.
 */
import { z } from "zod";
import { hubFetch } from "./hub-fetch.ts";
import { HubError } from "./hub-error.ts";
import { statusFailure } from "./hub-status.ts";
import { revisionUrl, treeUrl, type RepoRef } from "./hub-urls.ts";
import { withRetries, type RetryPolicy } from "./retry.ts";

export interface RepoFile {
  path: string;
  size: number;
  /** The git blob id (sha1 of "blob <size>\0" + content; for LFS files, of the pointer). */
  gitOid: string;
  /** sha256 of the content, for LFS files; null for files kept in git itself. */
  lfsSha256: string | null;
}

export interface ListingRequest {
  ref: RepoRef;
  token: string | null;
  retry: RetryPolicy;
}

const TREE_ENTRY = z.object({
  type: z.string(),
  path: z.string(),
  size: z.number().int().nonnegative(),
  oid: z.string(),
  lfs: z.object({ oid: z.string(), size: z.number().int().nonnegative() }).nullish(),
});
const TREE_PAGE = z.array(TREE_ENTRY);
const REVISION = z.object({ sha: z.string().regex(/^[0-9a-f]{40}$/) });

/** The commit sha `ref.revision` points at now. */
export async function resolveCommit(request: ListingRequest): Promise<string> {
  const body = await getJson(revisionUrl(request.ref), request, "reading the revision");
  const parsed = REVISION.safeParse(body);
  if (!parsed.success) throw new HubError(`${revisionUrl(request.ref)}: the answer has no commit sha`);
  return parsed.data.sha;
}

/** Every file of the revision (directories left out), across the pages the Link header chains. */
export async function listRepoFiles(request: ListingRequest): Promise<RepoFile[]> {
  const files: RepoFile[] = [];
  let url: string | null = treeUrl(request.ref);
  while (url !== null) {
    const page: string = url;
    const { body, next } = await withRetries(request.retry, `listing the files of ${request.ref.repo} on ${request.ref.endpoint}`, async () => {
      const response = await hubFetch(page, { token: request.token, headers: { accept: "application/json" } });
      if (!response.ok) throw statusFailure(response, { ref: request.ref, tokenSent: request.token !== null });
      return { body: await readJson(response, page), next: nextPage(response.headers.get("link"), page) };
    });
    const entries = TREE_PAGE.safeParse(body);
    if (!entries.success) throw new HubError(`${page}: not a file listing (${entries.error.issues[0].message})`);
    for (const entry of entries.data) {
      if (entry.type !== "file") continue;
      files.push({ path: entry.path, size: entry.lfs?.size ?? entry.size, gitOid: entry.oid, lfsSha256: entry.lfs?.oid ?? null });
    }
    url = next;
  }
  return files;
}

async function getJson(url: string, request: ListingRequest, what: string): Promise<unknown> {
  return withRetries(request.retry, `${what} of ${request.ref.repo} on ${request.ref.endpoint}`, async () => {
    const response = await hubFetch(url, { token: request.token, headers: { accept: "application/json" } });
    if (!response.ok) throw statusFailure(response, { ref: request.ref, tokenSent: request.token !== null });
    return readJson(response, url);
  });
}

/** The body as JSON; a body that is not JSON (a captive portal, a mirror's error page) is one line. */
async function readJson(response: Response, url: string): Promise<unknown> {
  const text = await response.text();
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new HubError(`${url}: the answer is not JSON (${response.headers.get("content-type") ?? "no content type"})`);
  }
}

/** The `rel="next"` target of a Link header, resolved against the page it came with. */
export function nextPage(link: string | null, base: string): string | null {
  if (link === null) return null;
  for (const part of link.split(",")) {
    const match = /<([^>]*)>\s*;\s*rel="?next"?/i.exec(part.trim());
    if (match) return new URL(match[1], base).toString();
  }
  return null;
}
