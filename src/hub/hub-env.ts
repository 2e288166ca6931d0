/**
 * The Hub settings that come from the environment, as huggingface_hub and
 * huggingface.js read them: HF_ENDPOINT selects a mirror, HF_TOKEN is sent
 * as a bearer token (the only way to reach gated and private repos).
 */
import { HubError } from "./hub-error.ts";

export const DEFAULT_HUB_ENDPOINT = "https://huggingface.co";

/** HF_ENDPOINT without its trailing slash, or the public Hub; anything but an http(s) URL is refused. */
export function hubEndpoint(env: NodeJS.ProcessEnv): string {
  const raw = env.HF_ENDPOINT?.trim();
  if (!raw) return DEFAULT_HUB_ENDPOINT;
  return checkEndpoint(raw, "HF_ENDPOINT");
}

/** An endpoint given in code or env: http(s), no query or fragment; the trailing slash dropped. */
export function checkEndpoint(raw: string, source: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new HubError(`${source}: expected an http(s) URL such as ${DEFAULT_HUB_ENDPOINT}, got ${JSON.stringify(raw)}`);
  }
  if ((url.protocol !== "http:" && url.protocol !== "https:") || url.search !== "" || url.hash !== "") {
    throw new HubError(`${source}: expected an http(s) URL such as ${DEFAULT_HUB_ENDPOINT}, got ${JSON.stringify(raw)}`);
  }
  return raw.replace(/\/+$/, "");
}

/** HF_TOKEN, or null when unset or blank. */
export function hubToken(env: NodeJS.ProcessEnv): string | null {
  const token = env.HF_TOKEN?.trim();
  return token ? token : null;
}
