/**
 * One file from the Hub onto disk, whole and verified or not at all. Bytes
 * go to `<dest>.incomplete` and the file takes its name only once its size
 * and hash match the listing, so a folder never holds a half file under a
 * name the server would load. An interrupted download (a lost connection,
 * a killed pull) resumes from the bytes already written with
 * `Range: bytes=<have>-`: a 206 appends, a 200 (a server that ignores
 * Range) starts over. The hash covers the partial bytes first, then the
 * stream, so resuming never skips verification.
 */
import { mkdir, open, rename, rm, stat, truncate, type FileHandle } from "node:fs/promises";
import { dirname } from "node:path";
import { ContentHash, hashFileInto, listedHash, matchesListing } from "./content-hash.ts";
import { hubFetch } from "./hub-fetch.ts";
import { HubError } from "./hub-error.ts";
import { statusFailure } from "./hub-status.ts";
import type { RepoRef } from "./hub-urls.ts";
import type { PullProgress } from "./pull-progress.ts";
import type { RepoFile } from "./repo-listing.ts";
import { TransientError, withRetries, type RetryPolicy } from "./retry.ts";

export interface DownloadJob {
  /** The file's resolve URL. */
  url: string;
  /** For the error messages (gated repo, missing file). */
  ref: RepoRef;
  token: string | null;
  file: RepoFile;
  /** The final path on disk. */
  dest: string;
  retry: RetryPolicy;
  progress: PullProgress;
}

export interface DownloadedFile {
  sha256: string;
  /** Bytes that came over the network (less than the size after a resume). */
  received: number;
}

export const incompletePath = (dest: string): string => `${dest}.incomplete`;

export async function downloadFile(job: DownloadJob): Promise<DownloadedFile> {
  const temp = incompletePath(job.dest);
  await mkdir(dirname(job.dest), { recursive: true });
  job.progress.beginFile(job.file.path, job.file.size);
  const partial = await sizeOnDisk(temp);
  let result = await transfer(job, temp);
  let digest = result.hash.digest();
  if (!matchesListing(job.file, digest) && partial > 0) {
    // The bytes an earlier pull left were not the start of this file (the revision moved on since): once more from nothing.
    await truncate(temp, 0);
    const again = await transfer(job, temp);
    result = { hash: again.hash, received: result.received + again.received };
    digest = result.hash.digest();
  }
  if (!matchesListing(job.file, digest)) {
    const kind = job.file.lfsSha256 !== null ? "sha256" : "git blob id";
    const expected = listedHash(job.file);
    const actual = job.file.lfsSha256 !== null ? digest.sha256 : digest.gitOid;
    throw await refuse(temp, `${job.file.path}: the downloaded bytes do not match the Hub's ${kind} (expected ${expected}, got ${actual}); the download was removed: pull again (if it happens again, the endpoint or a proxy serves other bytes than it lists)`);
  }
  await rename(temp, job.dest);
  job.progress.endFile();
  return { sha256: digest.sha256, received: result.received };
}

interface Transfer {
  /** The hash of every byte in the temp file. */
  hash: ContentHash;
  received: number;
}

/** Brings `temp` to the listed size, resuming from what it holds, retrying what is transient. */
async function transfer(job: DownloadJob, temp: string): Promise<Transfer> {
  const { file } = job;
  // Creates the temp file, so an empty file is there to rename like any other.
  await (await open(temp, "a")).close();
  let have = await sizeOnDisk(temp);
  if (have > file.size) {
    await truncate(temp, 0);
    have = 0;
  }
  let hash = newHash(file);
  if (have > 0) await hashFileInto(temp, hash);
  job.progress.setHave(have);

  let received = 0;
  let haveAtAttempt = have;
  await withRetries(
    job.retry,
    `downloading ${file.path} of ${job.ref.repo}`,
    async () => {
      haveAtAttempt = have;
      if (have === file.size) return;
      const response = await hubFetch(job.url, { token: job.token, headers: have > 0 ? { range: `bytes=${have}-` } : {} });
      if (!response.ok) {
        await response.body?.cancel();
        if (response.status === 416) {
          // The server does not agree the partial file is a prefix of this one: start over.
          await truncate(temp, 0);
          ({ have, hash } = restart(file, job.progress));
          throw new TransientError("HTTP 416 for a resumed range");
        }
        throw statusFailure(response, { ref: job.ref, tokenSent: job.token !== null, path: file.path });
      }
      if (have > 0 && (response.status !== 206 || rangeStart(response) !== have)) {
        // A 200 sends the whole file again; a 206 for a range we did not ask for is not trusted either.
        await truncate(temp, 0);
        ({ have, hash } = restart(file, job.progress));
        if (response.status === 206) {
          await response.body?.cancel();
          throw new TransientError(`HTTP 206 for another range than bytes=${haveAtAttempt}-`);
        }
      }
      const handle = await open(temp, "a");
      try {
        for await (const chunk of (response.body ?? emptyBody()) as AsyncIterable<Uint8Array>) {
          if (have + chunk.length > file.size) {
            throw await refuse(temp, `${file.path}: the server sent more than the ${file.size} bytes the listing gives; the download was removed: pull again`);
          }
          await writeAll(handle, chunk);
          hash.update(chunk);
          have += chunk.length;
          received += chunk.length;
          job.progress.advance(chunk.length);
        }
      } finally {
        await handle.close();
      }
      if (have < file.size) throw new TransientError(`the body ended after ${have} of ${file.size} bytes`);
    },
    () => have > haveAtAttempt,
  );
  return { hash, received };
}

async function refuse(temp: string, message: string): Promise<HubError> {
  await rm(temp, { force: true });
  return new HubError(message);
}

function newHash(file: RepoFile): ContentHash {
  return new ContentHash(file.lfsSha256 === null ? file.size : null);
}

function restart(file: RepoFile, progress: PullProgress): { have: number; hash: ContentHash } {
  progress.setHave(0);
  return { have: 0, hash: newHash(file) };
}

/** The first byte of a 206's Content-Range (`bytes 100-199/200`), or -1 when it has none. */
function rangeStart(response: Response): number {
  const match = /^bytes (\d+)-/.exec(response.headers.get("content-range") ?? "");
  return match ? Number(match[1]) : -1;
}

async function sizeOnDisk(path: string): Promise<number> {
  try {
    return (await stat(path)).size;
  } catch {
    return 0;
  }
}

/** FileHandle.write may write part of a buffer; loop so the bytes hashed are the bytes on disk. */
async function writeAll(handle: FileHandle, chunk: Uint8Array): Promise<void> {
  let offset = 0;
  while (offset < chunk.length) {
    const { bytesWritten } = await handle.write(chunk, offset, chunk.length - offset);
    offset += bytesWritten;
  }
}

async function* emptyBody(): AsyncIterable<Uint8Array> {}
