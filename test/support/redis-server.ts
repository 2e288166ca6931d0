/**
 * A real redis-server (Debian's redis-server package) for the cancel relay's
 * tests: on a free loopback port, nothing saved to disk, stopped with the
 * test. kill() is the crash the tests inflict; start() again brings a fresh,
 * empty Redis back on the same port, as a restarted Redis without
 * persistence would be.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { freePort } from "./free-port.ts";
import { redisServerBinary } from "./system-binary.ts";

export interface RedisServer {
  port: number;
  url: string;
  /** Starts it (again) on its port; resolves once it accepts connections. */
  start(): Promise<void>;
  /** SIGKILL: no goodbye to its clients. */
  kill(): Promise<void>;
}

export async function redisServer(): Promise<RedisServer> {
  const binary = redisServerBinary.require();
  const port = await freePort();
  let child: ChildProcess | null = null;
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    async start() {
      const started = spawn(binary, ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--daemonize", "no"], {
        stdio: ["ignore", "pipe", "pipe"],
      });
      child = started;
      let output = "";
      started.stdout?.on("data", (c) => (output += String(c)));
      started.stderr?.on("data", (c) => (output += String(c)));
      while (!output.includes("Ready to accept connections")) {
        if (started.exitCode !== null) throw new Error(`redis-server exited: ${output}`);
        await Promise.race([once(started.stdout!, "data"), once(started, "exit")]);
      }
    },
    async kill() {
      const running = child;
      if (running === null || running.exitCode !== null || running.signalCode !== null) return;
      const exited = once(running, "exit");
      running.kill("SIGKILL");
      await exited;
    },
  };
}
