/**
 * The real server process (npm start's entry, src/main.ts) as a child of
 * the test, and its stdout read as it comes, for tests of what only the
 * whole process does: signals, start-up failures, its logs.
 */
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { once } from "node:events";
import { repoRoot } from "./fixtures.ts";

export function startServer(args: string[], env: NodeJS.ProcessEnv = {}): ChildProcessWithoutNullStreams {
  return spawn(process.execPath, ["--import", "tsx", "src/main.ts", ...args], {
    cwd: repoRoot,
    env: { ...process.env, LOG_LEVEL: "info", ...env },
  });
}

export interface ChildOutput {
  text: () => string;
  /** Resolves with the first match of `re` in the output so far or to come; rejects if the process exits first. */
  waitFor: (re: RegExp) => Promise<RegExpExecArray>;
}

/** Collects one of the child's streams (never destroying it) and waits for lines in it. */
export function collectOutput(child: ChildProcessWithoutNullStreams, stream: "stdout" | "stderr" = "stdout"): ChildOutput {
  let out = "";
  const source = child[stream];
  source.on("data", (c) => (out += String(c)));
  return {
    text: () => out,
    async waitFor(re) {
      for (;;) {
        const match = re.exec(out);
        if (match) return match;
        if (child.exitCode !== null) throw new Error(`server exited: ${out}`);
        await Promise.race([once(source, "data"), once(child, "exit")]);
      }
    },
  };
}

/** The base URL the server logged once it listened on its (port 0) address. */
export async function listeningUrl(output: ChildOutput): Promise<string> {
  return (await output.waitFor(/listening at (http:\/\/127\.0\.0\.1:\d+)/i))[1];
}

/**
 * The base URL once the server answers GET /ready with 200: it listens
 * before its model is loaded, so requests sent at "listening" may get 503
 * "loading". Polls /ready (a condition, not a delay); rejects if the
 * process exits first.
 */
export async function readyUrl(child: ChildProcessWithoutNullStreams, output: ChildOutput): Promise<string> {
  const url = await listeningUrl(output);
  for (;;) {
    if (child.exitCode !== null) throw new Error(`server exited before it was ready: ${output.text()}`);
    const status = await fetch(`${url}/ready`).then(
      (res) => res.status,
      () => 0,
    );
    if (status === 200) return url;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
