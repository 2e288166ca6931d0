/**
 * The two hashes a downloaded file is checked against: sha256 of the
 * content (what the Hub lists for LFS files, and what the manifest keeps)
 * and, for files kept in git itself, the git blob id: sha1 over
 * "blob <size>\0" and the content, which catches a damaged config.json
 * that a size check would pass.
 */
import { createHash, type Hash } from "node:crypto";
import { createReadStream } from "node:fs";

export interface ContentDigest {
  sha256: string;
  /** Null unless asked for (a git blob size was given). */
  gitOid: string | null;
}

export class ContentHash {
  private readonly sha256 = createHash("sha256");
  private readonly gitSha1: Hash | null;

  /** `gitBlobSize`: the file's size in the listing, when its git blob id is to be checked. */
  constructor(gitBlobSize: number | null) {
    this.gitSha1 = gitBlobSize === null ? null : createHash("sha1").update(`blob ${gitBlobSize}\0`);
  }

  update(chunk: Uint8Array): void {
    this.sha256.update(chunk);
    this.gitSha1?.update(chunk);
  }

  digest(): ContentDigest {
    return { sha256: this.sha256.digest("hex"), gitOid: this.gitSha1?.digest("hex") ?? null };
  }
}

/** Feeds a file's bytes (the part already downloaded, or a file found on disk) into `hash`. */
export async function hashFileInto(path: string, hash: ContentHash): Promise<void> {
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
}

/** The hashes a listing gives for a file (repo-listing.ts's RepoFile has them). */
export interface ListedHashes {
  lfsSha256: string | null;
  gitOid: string;
}

/** The hash a file's bytes are checked against: the LFS sha256, else the git blob id. */
export const listedHash = (file: ListedHashes): string => file.lfsSha256 ?? file.gitOid;

/** Whether `digest` (made with the git blob size for git files) is the listed file's. */
export function matchesListing(file: ListedHashes, digest: ContentDigest): boolean {
  return file.lfsSha256 !== null ? digest.sha256 === file.lfsSha256 : digest.gitOid === file.gitOid;
}
