/**
 * Programs from Debian packages that some tests drive (nginx, redis-server).
 * On a machine without one, its tests are skipped with a line naming the
 * package; on CI (CI=true) they must run, so there a missing program fails
 * them instead (.ci/run installs the packages first).
 */
import { existsSync } from "node:fs";
import { delimiter, join } from "node:path";

export interface SystemBinary {
  /** Where it is, or null. */
  path: string | null;
  /** True where its tests may be skipped: missing, and not on CI. */
  skip: boolean;
  /** Says once per test file why its tests are skipped. */
  reportSkipped(file: string): void;
  /** The path, or the reason the tests cannot run (thrown on CI without it). */
  require(): string;
}

const onCi = process.env.CI === "true";

export function systemBinary(name: string, debianPackage: string): SystemBinary {
  // sbin is not on every user's PATH, and nginx lives there.
  const dirs = [...(process.env.PATH ?? "").split(delimiter), "/usr/sbin", "/usr/bin", "/sbin", "/bin"];
  const path = dirs.map((dir) => join(dir, name)).find((candidate) => existsSync(candidate)) ?? null;
  const install = `Install the Debian package ${debianPackage}: apt-get install -y ${debianPackage}`;
  return {
    path,
    skip: path === null && !onCi,
    reportSkipped(file) {
      if (path === null && !onCi) console.warn(`${file}: skipped, no ${name} on this machine. ${install}`);
    },
    require() {
      if (path === null) throw new Error(`no ${name} on this machine, and these tests must run on CI. ${install} (.ci/run does).`);
      return path;
    },
  };
}

export const redisServerBinary = systemBinary("redis-server", "redis-server");
export const nginxBinary = systemBinary("nginx", "nginx");
