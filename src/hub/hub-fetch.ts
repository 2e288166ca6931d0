/**
 * GET with redirects followed by hand, so the token never leaves the Hub:
 * the Hub answers LFS files with a 302 to a content host (a CDN with a
 * signed URL) that must not see HF_TOKEN. fetch's own redirect handling
 * is not relied on for that; each hop decides afresh whether to send it.
 * Other headers (Range) go to every hop.
 */
import { HubError } from "./hub-error.ts";

const REDIRECTS = new Set([301, 302, 303, 307, 308]);
const MAX_REDIRECTS = 10;

export interface HubFetchOptions {
  /** Sent as `Authorization: Bearer` only to the host of the first URL. */
  token: string | null;
  headers?: Record<string, string>;
}

export async function hubFetch(url: string, options: HubFetchOptions): Promise<Response> {
  const trustedHost = new URL(url).host;
  let current = url;
  for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
    const headers: Record<string, string> = { ...options.headers };
    if (options.token !== null && new URL(current).host === trustedHost) headers.authorization = `Bearer ${options.token}`;
    const response = await fetch(current, { headers, redirect: "manual" });
    const location = response.headers.get("location");
    if (!REDIRECTS.has(response.status) || location === null) return response;
    // A redirect's body is a short notice; drop it so the connection can be reused.
    await response.body?.cancel();
    current = new URL(location, current).toString();
  }
  throw new HubError(`more than ${MAX_REDIRECTS} redirects from ${url}`);
}
