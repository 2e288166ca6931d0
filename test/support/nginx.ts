/**
 * A real nginx (Debian's nginx package) running the repository's reference
 * gateway config, deploy/nginx/onnx-openai-server.conf, for the replica
 * tests. The file is used as written except for what only this machine can
 * say: the replicas' loopback addresses instead of replica-a:8000 …, the
 * port to listen on, and, where a test says so, a different
 * proxy_read_timeout. It runs in the foreground as one process (no master,
 * so no user switch), with its pid, logs and temporary files in its own
 * directory; its access log says which replica served each request.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { repoRoot } from "./fixtures.ts";
import { freePort } from "./free-port.ts";
import { tryConnect } from "./http-wire.ts";
import { nginxBinary } from "./system-binary.ts";

export const REFERENCE_CONFIG = join(repoRoot, "deploy/nginx/onnx-openai-server.conf");

export interface NginxOptions {
  /** The replicas' ports on 127.0.0.1, in place of the reference's upstream servers. */
  replicaPorts: number[];
  /** Replaces the reference's proxy_read_timeout (e.g. "2s"). */
  readTimeout?: string;
}

export interface Nginx {
  url: string;
  /** One line per request: "<status> <upstream addresses tried> <upstream statuses> <method> <uri>". */
  accessLog(): string[];
  stop(): Promise<void>;
}

/** The reference config with this machine's addresses; throws if the reference no longer has what it replaces. */
export function renderReferenceConfig(options: NginxOptions & { listenPort: number }): string {
  let text = readFileSync(REFERENCE_CONFIG, "utf8");
  const replaceOnce = (pattern: RegExp, replacement: string, what: string): void => {
    const matches = text.match(new RegExp(pattern.source, "gm"));
    if (matches?.length !== 1) throw new Error(`${REFERENCE_CONFIG}: expected one ${what}, found ${matches?.length ?? 0}`);
    text = text.replace(new RegExp(pattern.source, "m"), replacement);
  };
  const servers = text.match(/^\s*server replica-[a-z]+:8000 .*;$/gm) ?? [];
  if (servers.length !== options.replicaPorts.length) {
    throw new Error(`${REFERENCE_CONFIG}: ${servers.length} upstream servers, the test has ${options.replicaPorts.length} replicas`);
  }
  servers.forEach((line, i) => (text = text.replace(line, line.replace(/replica-[a-z]+:8000/, `127.0.0.1:${options.replicaPorts[i]}`))));
  replaceOnce(/^(\s*)listen 8080;$/, `$1listen 127.0.0.1:${options.listenPort};`, "listen 8080;");
  if (options.readTimeout !== undefined) replaceOnce(/^(\s*)proxy_read_timeout \S+;$/, `$1proxy_read_timeout ${options.readTimeout};`, "proxy_read_timeout");
  return text;
}

export async function startNginx(options: NginxOptions): Promise<Nginx> {
  const binary = nginxBinary.require();
  const dir = mkdtempSync(join(tmpdir(), "nginx-gateway-"));
  const listenPort = await freePort();
  writeFileSync(join(dir, "gateway.conf"), renderReferenceConfig({ ...options, listenPort }));
  writeFileSync(
    join(dir, "nginx.conf"),
    `daemon off;
master_process off;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log notice;
events { worker_connections 1024; }
http {
  log_format upstreams '$status $upstream_addr $upstream_status $request_method $request_uri';
  access_log ${dir}/access.log upstreams;
  client_body_temp_path ${dir}/client_body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  include ${dir}/gateway.conf;
}
`,
  );
  const child: ChildProcess = spawn(binary, ["-p", dir, "-c", join(dir, "nginx.conf"), "-e", join(dir, "error.log")], { stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout?.on("data", (c) => (output += String(c)));
  child.stderr?.on("data", (c) => (output += String(c)));
  // Up once it accepts connections (a condition polled, not a delay); an exit first is a bad config.
  while ((await tryConnect(listenPort)) !== "connected") {
    if (child.exitCode !== null) {
      const log = existsSync(join(dir, "error.log")) ? readFileSync(join(dir, "error.log"), "utf8") : "";
      throw new Error(`nginx exited: ${output}${log}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return {
    url: `http://127.0.0.1:${listenPort}`,
    accessLog: () =>
      readFileSync(join(dir, "access.log"), "utf8")
        .split("\n")
        .filter((line) => line.length > 0),
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, "exit");
      // TERM: nginx's fast shutdown.
      child.kill("SIGTERM");
      await exited;
    },
  };
}
