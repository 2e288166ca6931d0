/**
 * What a non-2xx answer from the Hub means, as one line the user can act
 * on. The Hub names the case in X-Error-Code (RepoNotFound, RevisionNotFound,
 * EntryNotFound, GatedRepo); without it (a mirror) the status decides. The
 * Hub answers 401 for a private repo and for one that does not exist alike,
 * when no token is sent, so that message names both.
 */
import { HubError } from "./hub-error.ts";
import { repoPageUrl, type RepoRef } from "./hub-urls.ts";
import { isTransientStatus, transientStatusError, type TransientError } from "./retry.ts";

export interface StatusContext {
  ref: RepoRef;
  /** Whether HF_TOKEN was sent: a 401/403 with a token means that token lacks access. */
  tokenSent: boolean;
  /** The file asked for; absent for the API calls. */
  path?: string;
}

/** The error for `response` (not ok): transient ones are retried by the caller, HubErrors end the pull. */
export function statusFailure(response: Response, context: StatusContext): HubError | TransientError {
  if (isTransientStatus(response.status)) return transientStatusError(response);
  const { ref, tokenSent, path } = context;
  const code = response.headers.get("x-error-code");
  const where = `${ref.repo} on ${ref.endpoint}`;
  if (code === "RevisionNotFound") return new HubError(`${ref.repo} has no revision "${ref.revision}" on ${ref.endpoint}`);
  if (code === "EntryNotFound" || (response.status === 404 && path !== undefined && code !== "RepoNotFound")) {
    return new HubError(`${ref.repo}@${ref.revision} has no file ${path} on ${ref.endpoint} (HTTP ${response.status})`);
  }
  if (response.status === 404 || (code === "RepoNotFound" && tokenSent)) {
    return new HubError(`no model repo ${ref.repo} (or no revision "${ref.revision}") on ${ref.endpoint}`);
  }
  if (response.status === 401 || response.status === 403) {
    const page = repoPageUrl(ref);
    if (tokenSent) {
      return new HubError(
        `${where} is gated or private and HF_TOKEN has no access (HTTP ${response.status}): accept the model's licence at ${page} with the token's account, or use a token that has access`,
      );
    }
    const missing = code === "RepoNotFound" ? "does not exist, or is private" : "is gated or private";
    return new HubError(`${where} ${missing} (HTTP ${response.status}): set HF_TOKEN to a token with access and accept the model's licence at ${page}`);
  }
  return new HubError(`${where}: unexpected HTTP ${response.status}${path === undefined ? "" : ` for ${path}`}`);
}
