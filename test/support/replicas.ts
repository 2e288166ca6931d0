/**
 * Server processes as replicas behind a gateway: each on a port chosen
 * here (so that a replica restarted after SIGTERM comes back where the
 * gateway expects it), its output collected, stopped with the test.
 */
import { once } from "node:events";
import type { ChildProcessWithoutNullStreams } from "node:child_process";
import { freePort } from "./free-port.ts";
import { collectOutput, readyUrl, startServer, type ChildOutput } from "./server-process.ts";

export interface Replica {
  port: number;
  url: string;
  child: ChildProcessWithoutNullStreams;
  log: ChildOutput;
  /** Everything it has logged, this process and the ones before it on this port. */
  logText(): string;
  /** SIGTERM; resolves with the exit code. */
  terminate(): Promise<number | null>;
  /** A new process on the same port with the same arguments; resolves once /ready answers 200. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

export async function startReplica(args: string[], env: NodeJS.ProcessEnv): Promise<Replica> {
  const port = await freePort();
  let earlier = "";
  const spawnOne = () => {
    const child = startServer([...args, "--host", "127.0.0.1", "--port", String(port)], env);
    return { child, log: collectOutput(child) };
  };
  let current = spawnOne();
  const replica: Replica = {
    port,
    url: await readyUrl(current.child, current.log),
    get child() {
      return current.child;
    },
    get log() {
      return current.log;
    },
    logText: () => earlier + current.log.text(),
    async terminate() {
      const exited = once(current.child, "exit");
      current.child.kill("SIGTERM");
      const [code] = (await exited) as [number | null];
      return code;
    },
    async restart() {
      earlier += current.log.text();
      current = spawnOne();
      await readyUrl(current.child, current.log);
    },
    async stop() {
      if (current.child.exitCode === null && current.child.signalCode === null) await replica.terminate();
    },
  };
  return replica;
}
