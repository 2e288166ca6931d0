/**
 * Bearer API keys. Keys are compared as SHA-256 digests with
 * timingSafeEqual, against every configured key, so neither the length nor
 * the position of a match leaks through timing.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import { unauthorized } from "../errors.ts";

const digest = (value: string): Buffer => createHash("sha256").update(value, "utf8").digest();

export interface ApiKeyCheck {
  readonly enabled: boolean;
  /**
   * Returns the caller's owner tag (a key fingerprint, never the key) or
   * undefined when auth is off; throws 401 otherwise.
   */
  authenticate(authorization: string | undefined): string | undefined;
}

export function createApiKeyCheck(keys: string[]): ApiKeyCheck {
  const digests = keys.map(digest);
  return {
    enabled: digests.length > 0,
    authenticate(authorization) {
      if (digests.length === 0) return undefined;
      const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(authorization ?? "");
      if (match === null) {
        throw unauthorized("You didn't provide an API key. Send it as 'Authorization: Bearer YOUR_KEY'.");
      }
      const presented = digest(match[1]);
      let found: Buffer | null = null;
      for (const candidate of digests) {
        if (timingSafeEqual(candidate, presented)) found = candidate;
      }
      if (found === null) throw unauthorized("Incorrect API key provided.");
      return `key-${found.subarray(0, 8).toString("hex")}`;
    },
  };
}
