/**
 * The playground's routes (docs/API.md "Playground"): the page and its
 * files with the right content types, the Content-Security-Policy and
 * nosniff, public even with API keys, gone with --no-playground; and the
 * files themselves: relative URLs only, no inline script or style.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import pino from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config.ts";
import { buildApp } from "../../src/http/app.ts";
import { loadPlaygroundAssets, PLAYGROUND_DIR } from "../../src/http/playground-assets.ts";
import { FakeEngine } from "./fake-engine.ts";
import { makeApp } from "./helpers.ts";

const apps: Array<{ close(): Promise<unknown> }> = [];
function setup(overrides: Parameters<typeof makeApp>[0] = {}) {
  const made = makeApp(overrides);
  apps.push(made.app);
  return made.app;
}
afterEach(async () => {
  await Promise.all(apps.splice(0).map((a) => a.close()));
});

const CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const read = (name: string): string => readFileSync(join(PLAYGROUND_DIR, name), "utf8");
/** A script without its comments, which may quote what the code must not do. */
const code = (name: string): string => read(name).replace(/\/\*[\s\S]*?\*\//g, "").replace(/^\s*\/\/.*$/gm, "");
const indexHtml = read("index.html");
const scriptNames = readdirSync(PLAYGROUND_DIR).filter((name) => name.endsWith(".js"));

/** src/href values of index.html, data: URLs aside. */
const pageUrls = [...indexHtml.matchAll(/\b(?:src|href)="([^"]*)"/g)].map((m) => m[1]).filter((url) => !url.startsWith("data:"));

/** The modules app.js loads, following relative imports from file to file. */
function importedModules(entry: string): string[] {
  const seen = new Set<string>([entry]);
  for (const name of seen) {
    for (const [, target] of read(name).matchAll(/^import .* from "\.\/([^"]+)";$/gm)) seen.add(target);
  }
  return [...seen];
}

describe("GET / and the page's files", () => {
  it("serves the page as text/html with the CSP and nosniff", async () => {
    const res = await setup().inject({ method: "GET", url: "/" });
    expect(res.statusCode).toBe(200);
    expect(res.headers["content-type"]).toBe("text/html; charset=utf-8");
    expect(res.headers["content-security-policy"]).toBe(CSP);
    expect(res.headers["x-content-type-options"]).toBe("nosniff");
    expect(res.body).toBe(indexHtml);
    const head = await setup().inject({ method: "HEAD", url: "/" });
    expect(head.statusCode).toBe(200);
    expect(head.headers["content-security-policy"]).toBe(CSP);
  });

  it("serves every file the page and its modules load, each with its content type and nosniff", async () => {
    const app = setup();
    expect(pageUrls).toEqual(["playground/style.css", "playground/app.js"]);
    const modules = importedModules("app.js");
    expect(modules.sort()).toEqual([...scriptNames].sort());
    for (const [path, type] of [
      ["/playground/style.css", "text/css; charset=utf-8"],
      ...modules.map((name) => [`/playground/${name}`, "text/javascript; charset=utf-8"]),
    ]) {
      const res = await app.inject({ method: "GET", url: path });
      expect(res.statusCode, path).toBe(200);
      expect(res.headers["content-type"], path).toBe(type);
      expect(res.headers["x-content-type-options"], path).toBe("nosniff");
      expect(res.body).toBe(read(path.slice("/playground/".length)));
    }
  });

  it("serves nothing else from the folder, and no path reaches the filesystem", async () => {
    const app = setup();
    for (const url of ["/playground/", "/playground/index.html", "/playground/../package.json", "/playground/%2e%2e/package.json", "/index.html"]) {
      const res = await app.inject({ method: "GET", url });
      expect(res.statusCode, url).toBe(404);
      expect(JSON.parse(res.body).error.code).toBe("unknown_url");
    }
  });

  it("is public when API keys are configured: the page asks for the key itself", async () => {
    const app = setup({ apiKeys: ["k1"] });
    expect((await app.inject({ method: "GET", url: "/" })).statusCode).toBe(200);
    expect((await app.inject({ method: "GET", url: "/playground/app.js" })).statusCode).toBe(200);
    expect((await app.inject({ method: "GET", url: "/v1/models" })).statusCode).toBe(401);
  });

  it("--no-playground makes / and the files a 404 like any unknown route", async () => {
    const parsed = parseConfig(["--no-playground"], {});
    if (parsed.kind !== "config") throw new Error("expected a config");
    const app = buildApp({ ...parsed.config, logLevel: "silent" }, new FakeEngine(), { logger: pino({ level: "silent" }) });
    apps.push(app);
    for (const url of ["/", "/playground/app.js", "/playground/style.css"]) {
      const res = await app.inject({ method: "GET", url });
      expect(res.statusCode, url).toBe(404);
      expect(JSON.parse(res.body).error).toMatchObject({ type: "invalid_request_error", code: "unknown_url" });
    }
  });

  it("names --no-playground when the files are missing (a dist/ built without them)", () => {
    expect(() => loadPlaygroundAssets("/nonexistent/playground")).toThrow(/--no-playground/);
  });
});

describe("the page's files", () => {
  it("use only relative URLs, so the page works under a gateway's sub-path", () => {
    for (const url of pageUrls) expect(url, url).toMatch(/^[a-z]/);
    for (const name of scriptNames) {
      const source = code(name);
      // A string that starts with "/" or a scheme would leave the page's base path.
      expect(source, name).not.toMatch(/["'`]\/[A-Za-z]/);
      expect(source, name).not.toMatch(/["'`]https?:/);
      expect(source, name).not.toMatch(/location\.(origin|host)/);
    }
    expect(read("api-client.js")).toMatch(/^export const MODELS_URL = "v1\/models";$/m);
    expect(read("api-client.js")).toMatch(/^export const CHAT_URL = "v1\/chat\/completions";$/m);
  });

  it("have no inline script or style, and write text, never HTML", () => {
    expect(indexHtml).not.toMatch(/<script(?![^>]*\ssrc=)/);
    expect(indexHtml).not.toMatch(/<style/);
    expect(indexHtml).not.toMatch(/\sstyle=/);
    expect(indexHtml).not.toMatch(/\son[a-z]+=/);
    for (const name of scriptNames) {
      const source = code(name);
      expect(source, name).not.toMatch(/innerHTML|outerHTML|insertAdjacentHTML|document\.write|\.style\b|setAttribute\(\s*["']style|\beval\(|new Function/);
    }
  });

  it("never store anything in the browser: the API key stays in memory", () => {
    for (const name of scriptNames) expect(code(name), name).not.toMatch(/localStorage|sessionStorage|document\.cookie|indexedDB/);
  });
});
