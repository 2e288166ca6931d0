/**
 * The server under test as a child process (its own event loop, apart from
 * the load generator), on 127.0.0.1 and a free port. Every child started
 * here is killed when the bench exits, fails or is interrupted.
 */
import { spawn, type ChildProcess } from "node:child_process";
import type { ModelDtype } from "../src/config.ts";
import { freePort } from "./free-port.ts";
import { REPO_ROOT } from "./models.ts";
import { readProcMemory, resetPeakMemory, type ProcMemory } from "./proc-memory.ts";

export interface ServerOptions {
  modelDir: string;
  threads: number | "auto";
  maxBatchSize: number;
  /** The server's --dtype; its default (fp32) when absent. */
  dtype?: ModelDtype;
  readyTimeoutMs?: number;
}

const live = new Set<ChildProcess>();
let hooksInstalled = false;

function installExitHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.on("exit", () => {
    for (const child of live) child.kill("SIGKILL");
  });
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.once(signal, () => {
      process.stderr.write(`\n${signal}: stopping ${live.size} server process(es)\n`);
      for (const child of live) child.kill("SIGKILL");
      process.exit(130);
    });
  }
}

export class ServerProcess {
  private output = "";
  private exited: Promise<number | null>;

  private constructor(
    private readonly child: ChildProcess,
    readonly baseUrl: string,
  ) {
    const keep = (chunk: Buffer): void => {
      this.output = (this.output + chunk.toString("utf8")).slice(-4000);
    };
    child.stdout?.on("data", keep);
    child.stderr?.on("data", keep);
    this.exited = new Promise((resolve) => child.once("exit", (code) => {
      live.delete(child);
      resolve(code);
    }));
  }

  static async start(options: ServerOptions): Promise<ServerProcess> {
    installExitHooks();
    const port = await freePort();
    const args = [
      "--import", "tsx", "src/main.ts",
      "--model", options.modelDir,
      "--host", "127.0.0.1",
      "--port", String(port),
      "--log-level", "warn",
      "--threads", String(options.threads),
      "--workers", "1",
      "--max-batch-size", String(options.maxBatchSize),
      "--shutdown-grace-ms", "1000",
      ...(options.dtype ? ["--dtype", options.dtype] : []),
    ];
    const child = spawn(process.execPath, args, { cwd: REPO_ROOT, stdio: ["ignore", "pipe", "pipe"] });
    live.add(child);
    const server = new ServerProcess(child, `http://127.0.0.1:${port}`);
    try {
      await server.waitReady(options.readyTimeoutMs ?? 180_000);
    } catch (error) {
      await server.stop();
      throw error;
    }
    return server;
  }

  /** For error messages: whether the child still runs, and if not, how it ended and what it printed last. */
  describe(): string {
    const { exitCode, signalCode } = this.child;
    if (exitCode === null && signalCode === null) return `server ${this.baseUrl} still running`;
    return `server ${this.baseUrl} exited (${signalCode ?? `code ${exitCode}`}):\n${this.output.trim()}`;
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  memory(): ProcMemory {
    return readProcMemory(this.pid);
  }

  /** Starts a new peak-memory window; false where the kernel refuses (VmHWM is then the peak since start). */
  resetPeak(): boolean {
    return resetPeakMemory(this.pid);
  }

  /** SIGTERM, then SIGKILL if it has not exited within 10 s. */
  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill("SIGTERM");
    const timer = setTimeout(() => this.child.kill("SIGKILL"), 10_000);
    await this.exited;
    clearTimeout(timer);
  }

  private async waitReady(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let gone = false;
    void this.exited.then(() => (gone = true));
    while (Date.now() < deadline) {
      if (gone) throw new Error(`server exited before it was ready:\n${this.output.trim()}`);
      try {
        const res = await fetch(`${this.baseUrl}/ready`, { signal: AbortSignal.timeout(2000) });
        await res.arrayBuffer();
        if (res.status === 200) return;
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`server not ready after ${timeoutMs} ms:\n${this.output.trim()}`);
  }
}
