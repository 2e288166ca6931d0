/**
 * Chromium for the playground's browser tests: Debian's `chromium` package,
 * driven by playwright-core (which downloads no browser of its own). On a
 * machine without it the tests are skipped with a line that names the
 * package; on CI (CI=true) they must run, so there a missing browser makes
 * them fail instead (.ci/run installs the package first).
 */
import { existsSync } from "node:fs";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";
import { repoRoot } from "./fixtures.ts";

export const CHROMIUM_PATH = "/usr/bin/chromium";
const onCi = process.env.CI === "true";

/** True where the browser tests cannot run and may be skipped (never on CI). */
export const skipBrowserTests = !existsSync(CHROMIUM_PATH) && !onCi;

/** Says once per test file why its browser tests are skipped. */
export function reportSkippedBrowserTests(file: string): void {
  if (skipBrowserTests) {
    console.warn(`${file}: skipped, no Chromium at ${CHROMIUM_PATH}. Install the Debian package chromium: apt-get install -y chromium`);
  }
}

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(`CI=true and no Chromium at ${CHROMIUM_PATH}: the browser tests must run on CI. Install the Debian package chromium (.ci/run does).`);
  }
  return chromium.launch({ executablePath: CHROMIUM_PATH });
}

/** Where screenshots go (test-results/, ignored by git); created on first use. */
export function screenshotPath(name: string): string {
  const dir = join(repoRoot, "test-results");
  mkdirSync(dir, { recursive: true });
  return join(dir, name);
}

/**
 * Console errors of a page, including Content-Security-Policy violations
 * (Chromium reports each refused inline script, style or connection as one):
 * a test ends by checking there were none.
 */
export function collectConsoleErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on("console", (message) => {
    if (message.type() === "error") errors.push(message.text());
  });
  page.on("pageerror", (error) => errors.push(error.message));
  return errors;
}
