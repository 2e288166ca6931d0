/**
 * Whether a planned file is already in the folder, so a pull fetches only
 * what is missing or changed. The manifest's record answers without
 * reading the file (same listed hash, same size on disk); a file it does
 * not know (copied in by hand, or its pull was killed before the manifest
 * was written) is hashed once and kept when it matches the listing.
 */
import { existsSync, statSync } from "node:fs";
import { join } from "node:path";
import { ContentHash, hashFileInto, listedHash, matchesListing } from "./content-hash.ts";
import { onDisk, type ManifestFile } from "./pull-manifest.ts";
import type { RepoFile } from "./repo-listing.ts";

/** The manifest entry for `file` when the folder already has its bytes; null when it must be downloaded. */
export async function localCopy(dir: string, file: RepoFile, known: ManifestFile | undefined): Promise<ManifestFile | null> {
  if (known && known.listedHash === listedHash(file) && onDisk(dir, file.path, known)) return known;
  const path = join(dir, file.path);
  if (!existsSync(path) || !statSync(path).isFile() || statSync(path).size !== file.size) return null;
  const hash = new ContentHash(file.lfsSha256 === null ? file.size : null);
  await hashFileInto(path, hash);
  const digest = hash.digest();
  return matchesListing(file, digest) ? { size: file.size, sha256: digest.sha256, listedHash: listedHash(file) } : null;
}
