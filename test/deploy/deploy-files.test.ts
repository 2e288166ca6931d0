/**
 * The deployment examples against the server's own configuration, so that
 * a renamed option, route or port cannot leave them quietly wrong: every
 * YAML file under deploy/ and docker-compose.yml is parsed; every env var
 * given to a server container is a real option and its value parses; every
 * probe path is a real route (readiness /ready, liveness /health); every
 * port is the one the container serves; the orchestrator's grace covers
 * the server's whole shutdown; and the nginx config keeps the settings the
 * server relies on, pointing at the replicas' served port.
 */
import { readdirSync, readFileSync, existsSync } from "node:fs";
import { join, relative } from "node:path";
import pino from "pino";
import { describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { defaultConfig, optionEnvVars, parseConfig, type ServerConfig } from "../../src/config.ts";
import { CANCEL_DRAIN_MS } from "../../src/engine/onnx-engine.ts";
import { buildApp } from "../../src/http/app.ts";
import { FINAL_WRITES_MS } from "../../src/http/drain.ts";
import { FakeEngine } from "../http/fake-engine.ts";
import { testConfig } from "../http/helpers.ts";
import { repoRoot } from "../support/fixtures.ts";
import { findDirectives, parseNginxConf, type NginxDirective } from "../support/nginx-conf.ts";

type Json = Record<string, unknown>;

function yamlFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return yamlFiles(path);
    return /\.ya?ml$/.test(entry.name) ? [path] : [];
  });
}

const files = [...yamlFiles(join(repoRoot, "deploy")), join(repoRoot, "docker-compose.yml")];
const documents = files.flatMap((file) =>
  parseAllDocuments(readFileSync(file, "utf8"), { merge: true }).map((doc) => {
    if (doc.errors.length > 0) throw new Error(`${relative(repoRoot, file)}: ${doc.errors[0].message}`);
    return { file: relative(repoRoot, file), doc: doc.toJS() as Json };
  }),
);
const manifests = documents.filter((d) => typeof d.doc.kind === "string" && typeof d.doc.apiVersion === "string");
const ofKind = (kind: string): Json[] => manifests.filter((m) => m.doc.kind === kind).map((m) => m.doc);
const compose = documents.find((d) => d.file === "docker-compose.yml")!.doc as { services: Record<string, Json> };

/** Env vars the server reads besides its options: the Hub's, for `--model owner/name` (src/hub/hub-env.ts). */
const OTHER_SERVER_ENV = ["HF_TOKEN", "HF_ENDPOINT"];
const SERVER_IMAGE = /^onnx-openai-server(:|$)/;
const shutdownMs = (config: ServerConfig): number => config.shutdownGraceMs + CANCEL_DRAIN_MS + FINAL_WRITES_MS;

/** The config a container gets from its env: parsed exactly as the server parses it at start. */
function configFrom(env: Record<string, string>, where: string): ServerConfig {
  for (const name of Object.keys(env)) expect([...optionEnvVars(), ...OTHER_SERVER_ENV], `${where}: env ${name}`).toContain(name);
  const parsed = parseConfig([], env);
  if (parsed.kind !== "config") throw new Error("no flags cannot mean --help");
  return parsed.config;
}

/** Seconds in nginx's and compose's notation ("30s", "1m", "3600"). */
function seconds(value: string): number {
  const match = /^(\d+)(ms|s|m|h)?$/.exec(value);
  if (!match) throw new Error(`not a duration: ${value}`);
  return Number(match[1]) * { ms: 0.001, s: 1, m: 60, h: 3600 }[match[2] ?? "s"]!;
}

/** Bytes in nginx's notation ("16m", "512k", "1024"). */
function bytes(value: string): number {
  const match = /^(\d+)([kmg])?$/i.exec(value);
  if (!match) throw new Error(`not a size: ${value}`);
  const unit = match[2] === undefined ? 1 : { k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[match[2].toLowerCase() as "k" | "m" | "g"];
  return Number(match[1]) * unit;
}

describe("deploy/ and docker-compose.yml", () => {
  it("every YAML document parses, and every Kubernetes object has a kind, an apiVersion and a name", () => {
    expect(files.length).toBeGreaterThan(5);
    for (const { file, doc } of manifests) {
      if (doc.kind !== "Kustomization") expect((doc.metadata as Json | undefined)?.name, file).toEqual(expect.any(String));
    }
    expect(new Set(manifests.map((m) => m.doc.kind))).toEqual(
      new Set(["Kustomization", "Secret", "Deployment", "Service", "PodDisruptionBudget", "HorizontalPodAutoscaler"]),
    );
  });

  it("the kustomization lists every manifest in its folder", () => {
    const kustomization = manifests.find((m) => m.doc.kind === "Kustomization")!;
    const listed = (kustomization.doc.resources as string[]).map((r) => join("deploy/kubernetes", r)).sort();
    const present = manifests.filter((m) => m.file.startsWith("deploy/kubernetes/") && m.doc.kind !== "Kustomization").map((m) => m.file);
    expect(listed).toEqual([...new Set(present)].sort());
  });

  describe("Kubernetes", () => {
    const deployments = ofKind("Deployment");
    /** The server's Deployment, container and config as the container would parse it; computed in each test, so a mistake fails that test. */
    function serverDeployment() {
      const server = deployments.find((d) => ((d.spec as Json).template as { spec: { containers: Json[] } }).spec.containers.some((c) => SERVER_IMAGE.test(String(c.image))))!;
      const podSpec = ((server.spec as Json).template as { spec: Json }).spec;
      const podLabels = ((server.spec as Json).template as { metadata: { labels: Record<string, string> } }).metadata.labels;
      const container = (podSpec.containers as Json[]).find((c) => SERVER_IMAGE.test(String(c.image)))!;
      const secrets = ofKind("Secret");
      // The container's env, secrets resolved from deploy/kubernetes's own Secret.
      const env = Object.fromEntries(
        (container.env as Array<{ name: string; value?: string; valueFrom?: { secretKeyRef: { name: string; key: string } } }>).map((e) => {
          if (e.value !== undefined) return [e.name, e.value];
          const ref = e.valueFrom!.secretKeyRef;
          const secret = secrets.find((s) => (s.metadata as Json).name === ref.name);
          expect(secret, `Secret ${ref.name}`).toBeDefined();
          const value = (secret!.stringData as Record<string, string>)[ref.key];
          expect(value, `${ref.name}.${ref.key}`).toEqual(expect.any(String));
          return [e.name, value];
        }),
      );
      const config = configFrom(env, "deployment.yaml");
      const ports = container.ports as Array<{ name: string; containerPort: number }>;
      const portNumber = (port: string | number): number => (typeof port === "number" ? port : ports.find((p) => p.name === port)!.containerPort);
      return { server, podSpec, podLabels, container, config, ports, portNumber };
    }

    it("the server container's env vars are options whose values parse; it listens where its port says", () => {
      const { config, ports } = serverDeployment();
      expect(config.host).toBe("0.0.0.0");
      expect(ports.map((p) => p.containerPort)).toEqual([config.port]);
      expect(config.redisUrl).not.toBeNull();
      expect(config.apiKeys.length).toBeGreaterThan(0);
    });

    it("readiness on /ready, liveness (and start-up) on /health: real routes, on the served port", async () => {
      const { container, config, portNumber } = serverDeployment();
      type Probe = { httpGet: { path: string; port: string | number } };
      const probes = { readinessProbe: "/ready", livenessProbe: "/health", startupProbe: "/health" } as const;
      const app = buildApp(testConfig(), new FakeEngine(), { logger: pino({ level: "silent" }) });
      for (const [probe, path] of Object.entries(probes)) {
        const spec = container[probe] as Probe;
        expect(spec.httpGet.path, probe).toBe(path);
        expect(portNumber(spec.httpGet.port), probe).toBe(config.port);
        expect((await app.inject({ method: "GET", url: spec.httpGet.path })).statusCode, probe).toBe(200);
      }
    });

    it("terminationGracePeriodSeconds covers preStop plus the server's whole shutdown (SHUTDOWN_GRACE_MS, cancel drain, last writes)", () => {
      const { podSpec, container, config } = serverDeployment();
      const preStop = (container.lifecycle as { preStop: { exec: { command: string[] } } }).preStop.exec.command;
      expect(preStop[0]).toBe("sleep");
      const needed = Number(preStop[1]) * 1000 + shutdownMs(config);
      expect(Number(podSpec.terminationGracePeriodSeconds) * 1000).toBeGreaterThanOrEqual(needed);
      // The default grace would not do: the manifest sets its own, and the comment's sum is this one.
      expect(config.shutdownGraceMs).not.toBe(defaultConfig().shutdownGraceMs);
    });

    it("the Service, PodDisruptionBudget and HorizontalPodAutoscaler point at the server's pods and port", () => {
      const { server, podLabels, config, portNumber } = serverDeployment();
      const service = ofKind("Service").find((s) => (s.metadata as Json).name === (server.metadata as Json).name)!;
      expect((service.spec as { selector: Json }).selector).toEqual(podLabels);
      for (const port of (service.spec as { ports: Array<{ targetPort: string | number }> }).ports) expect(portNumber(port.targetPort)).toBe(config.port);
      const pdb = ofKind("PodDisruptionBudget")[0];
      expect((pdb.spec as { selector: { matchLabels: Json } }).selector.matchLabels).toEqual(podLabels);
      expect(Number((pdb.spec as Json).minAvailable)).toBeLessThan(Number((server.spec as Json).replicas));
      const hpa = ofKind("HorizontalPodAutoscaler")[0];
      expect((hpa.spec as Json).scaleTargetRef).toMatchObject({ kind: "Deployment", name: (server.metadata as Json).name });
      expect(Number((hpa.spec as Json).minReplicas)).toBeGreaterThanOrEqual(2);
    });

    it("REDIS_URL names the Redis Service and its port", () => {
      const { server, config } = serverDeployment();
      const url = new URL(config.redisUrl!);
      const redisService = ofKind("Service").find((s) => (s.metadata as Json).name === url.hostname);
      expect(redisService, url.hostname).toBeDefined();
      expect((redisService!.spec as { ports: Array<{ port: number }> }).ports.map((p) => p.port)).toContain(Number(url.port || 6379));
      const redisDeployment = deployments.find((d) => d !== server)!;
      expect(((redisDeployment.spec as Json).template as { metadata: { labels: Json } }).metadata.labels).toEqual((redisService!.spec as Json).selector);
    });
  });

  describe("docker compose", () => {
    const isServer = (service: Json): boolean => SERVER_IMAGE.test(String(service.image)) || (service.build as Json | undefined)?.context === ".";
    const servers = Object.entries(compose.services).filter(([, service]) => isServer(service));
    /** Compose interpolation: ${NAME:-default} is the default here (unset), as on a machine without NAME. */
    const composeEnv = (service: Json): Record<string, string> =>
      Object.fromEntries(
        Object.entries((service.environment as Record<string, string>) ?? {})
          .map(([name, value]) => [name, String(value).replace(/\$\{[A-Z_]+(?::-([^}]*))?\}/g, (_, fallback: string | undefined) => fallback ?? "")])
          .filter(([, value]) => value !== ""),
      );

    it("every server service's env vars are options whose values parse; its published port is the served one; stop_grace_period covers its shutdown", () => {
      expect(servers.map(([name]) => name).sort()).toEqual(["replica-a", "replica-b", "server"]);
      for (const [name, service] of servers) {
        const config = configFrom(composeEnv(service), `docker-compose.yml ${name}`);
        expect(config.host).toBe("0.0.0.0");
        for (const mapping of (service.ports as string[] | undefined) ?? []) expect(Number(mapping.split(":").at(-1)), name).toBe(config.port);
        expect(seconds(String(service.stop_grace_period)) * 1000, name).toBeGreaterThanOrEqual(shutdownMs(config));
      }
    });

    it("the replicas share the profile's Redis; the gateway runs deploy/nginx's config, whose upstreams are the replicas at their served port", () => {
      const replicas = servers.filter(([, s]) => (s.profiles as string[] | undefined)?.includes("replicas"));
      for (const [name, service] of replicas) {
        const url = new URL(configFrom(composeEnv(service), name).redisUrl!);
        expect(compose.services[url.hostname]?.profiles, name).toContain("replicas");
      }
      const gateway = compose.services.gateway;
      const mount = (gateway.volumes as string[]).find((v) => v.includes("deploy/nginx/"))!;
      const confFile = join(repoRoot, mount.split(":")[0]);
      expect(existsSync(confFile)).toBe(true);
      const conf = parseNginxConf(readFileSync(confFile, "utf8"));
      const upstreams = findDirectives(conf, "upstream").flatMap((u) => findDirectives(u.block!, "server").map((s) => s.args[0]));
      expect(upstreams.sort()).toEqual(replicas.map(([name, s]) => `${name}:${configFrom(composeEnv(s), name).port}`).sort());
      const listen = Number(findDirectives(conf, "listen")[0].args[0]);
      expect((gateway.ports as string[]).map((p) => Number(p.split(":").at(-1)))).toEqual([listen]);
    });
  });

  describe("deploy/nginx/onnx-openai-server.conf", () => {
    const conf = parseNginxConf(readFileSync(join(repoRoot, "deploy/nginx/onnx-openai-server.conf"), "utf8"));
    const defaults = defaultConfig();
    const one = (name: string, where: NginxDirective[] = conf): string[] => {
      const found = findDirectives(where, name);
      expect(found, name).toHaveLength(1);
      return found[0].args;
    };

    it("streams pass unbuffered, and the read timeout outlasts the heartbeat by far", () => {
      expect(one("proxy_buffering")).toEqual(["off"]);
      expect(seconds(one("proxy_read_timeout")[0]) * 1000).toBeGreaterThan(defaults.sseHeartbeatMs);
      expect(seconds(one("proxy_read_timeout")[0])).toBeGreaterThanOrEqual(600);
    });

    it("retries on another replica what none has started: refused connections, timeouts, 503s, POSTs included", () => {
      expect(one("proxy_next_upstream").sort()).toEqual(["error", "http_503", "non_idempotent", "timeout"]);
    });

    it("passes X-Request-Id (the client's, else one of nginx's) and keeps upstream connections no longer than the server does", () => {
      const headers = findDirectives(conf, "proxy_set_header").map((d) => d.args);
      expect(headers).toContainEqual(["X-Request-Id", "$onnx_request_id"]);
      const map = findDirectives(conf, "map").find((m) => m.args[1] === "$onnx_request_id")!;
      expect(map.args[0]).toBe("$http_x_request_id");
      expect(map.block!.map((d) => [d.name, ...d.args])).toEqual([["default", "$http_x_request_id"], ["", "$request_id"]]);
      expect(one("proxy_http_version")).toEqual(["1.1"]);
      expect(headers).toContainEqual(["Connection", ""]);
      const upstream = findDirectives(conf, "upstream")[0].block!;
      expect(seconds(one("keepalive_timeout", upstream)[0]) * 1000).toBeLessThan(defaults.keepAliveTimeoutMs);
    });

    it("takes bodies as large as the server does", () => {
      expect(bytes(one("client_max_body_size")[0])).toBe(defaults.maxBodyBytes);
    });
  });
});
