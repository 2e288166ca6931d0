/**
 * The rule for tests that need a program from Debian (test/support/system-binary.ts):
 * missing on a developer machine, they are skipped with a line naming the
 * package; missing under CI=true, they must fail, naming it too.
 */
import { afterEach, describe, expect, it, vi } from "vitest";
import { nginxBinary, redisServerBinary, systemBinary } from "./support/system-binary.ts";

describe("systemBinary", () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it("a missing program: skipped off CI with the package named; on CI, require() fails naming it", () => {
    const missing = systemBinary("no-such-program-for-tests", "no-such-package");
    expect(missing.path).toBeNull();
    expect(missing.skip).toBe(process.env.CI !== "true");
    const warn = vi.spyOn(console, "warn").mockImplementation(() => undefined);
    missing.reportSkipped("test/x.test.ts");
    if (missing.skip) expect(warn.mock.calls[0][0]).toMatch(/^test\/x\.test\.ts: skipped, no no-such-program-for-tests .*apt-get install -y no-such-package$/);
    else expect(warn).not.toHaveBeenCalled();
    expect(() => missing.require()).toThrow(/Install the Debian package no-such-package/);
  });

  it("finds nginx (in sbin too) and redis-server where they are installed", () => {
    for (const binary of [nginxBinary, redisServerBinary]) {
      if (binary.path === null) continue;
      expect(binary.skip).toBe(false);
      expect(binary.require()).toBe(binary.path);
    }
  });
});
