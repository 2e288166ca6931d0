/**
 * The playground in a real browser (Debian's Chromium through
 * playwright-core) in the two set-ups a deployment adds: behind a gateway
 * that serves it under a sub-path (every URL the page uses must be
 * relative), and with API keys (the page asks for one, keeps it in memory
 * only, and sends it as a bearer token). The gateway also hands the stream
 * over one byte at a time, so the Chinese answer arrives with its
 * characters split across network reads and must still render whole.
 */
import type { AddressInfo } from "node:net";
import type { FastifyInstance } from "fastify";
import pino from "pino";
import type { Browser, Request } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildApp } from "../../src/http/app.ts";
import { testConfig } from "../http/helpers.ts";
import { collectConsoleErrors, launchChromium, reportSkippedBrowserTests, screenshotPath, skipBrowserTests } from "../support/chromium.ts";
import { tinyChat } from "../support/fixtures.ts";
import { startLiveServer, type LiveServer } from "../support/live-server.ts";
import { startSubpathProxy, type SubpathProxy } from "../support/subpath-proxy.ts";

reportSkippedBrowserTests("playground-gateway-and-keys.test.ts");

const API_KEY = "playground-test-key";

describe.skipIf(skipBrowserTests)("the playground behind a gateway and with API keys", () => {
  let server: LiveServer;
  let keyed: FastifyInstance;
  let keyedUrl: string;
  let proxy: SubpathProxy;
  let browser: Browser;
  beforeAll(async () => {
    // The browser first: where it is missing (on CI) this fails before a model worker starts.
    browser = await launchChromium();
    server = await startLiveServer(tinyChat);
    // A second app over the same engine, with a key required: no second model load.
    keyed = buildApp(testConfig({ apiKeys: [API_KEY] }), server.engine, { logger: pino({ level: "silent" }) });
    await keyed.listen({ host: "127.0.0.1", port: 0 });
    keyedUrl = `http://127.0.0.1:${(keyed.server.address() as AddressInfo).port}`;
    proxy = await startSubpathProxy(server.url, "some/prefix");
  });
  afterAll(async () => {
    await browser?.close();
    await proxy?.close();
    await keyed?.close();
    await server?.close();
  });

  it("works under /some/prefix/, only relative URLs, and renders a Chinese answer split byte by byte without U+FFFD", async () => {
    const page = await browser.newPage();
    const consoleErrors = collectConsoleErrors(page);
    const requested: string[] = [];
    page.on("request", (request) => requested.push(new URL(request.url()).pathname));
    await page.goto(proxy.pageUrl);
    await page.locator(`#model option[value="${server.model}"]`).waitFor({ state: "attached" });
    await page.getByLabel("Temperature").fill("0");
    await page.getByLabel("Message").fill("你好");
    await page.getByRole("button", { name: "Send" }).click();
    await page.locator(".message.assistant .meta", { hasText: "finish_reason: stop" }).waitFor();

    // tiny-chat's greeting (models/tiny-chat/eval/examples.jsonl): every character is 3 UTF-8 bytes.
    expect(await page.locator(".message.assistant .content").textContent()).toBe("你好！有什么可以帮你的？");
    expect(await page.locator("#conversation").textContent()).not.toContain("\uFFFD");
    expect(proxy.strayPaths).toEqual([]);
    expect(requested.length).toBeGreaterThan(0);
    for (const path of requested) expect(path.startsWith("/some/prefix/")).toBe(true);
    expect(requested).toEqual(expect.arrayContaining(["/some/prefix/", "/some/prefix/playground/app.js", "/some/prefix/v1/models", "/some/prefix/v1/chat/completions"]));
    expect(consoleErrors).toEqual([]);
    await page.close();
  });

  it("asks for the API key on a 401, sends it as a bearer token, and stores it nowhere", async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const consoleErrors = collectConsoleErrors(page);
    const apiRequests: Request[] = [];
    page.on("request", (request) => {
      if (new URL(request.url()).pathname.startsWith("/v1/")) apiRequests.push(request);
    });
    // The page and its files are public; the model list is not.
    await page.goto(`${keyedUrl}/`);
    const keyField = page.getByLabel("API key");
    await keyField.waitFor();
    expect(await page.locator("#model option").count()).toBe(0);
    expect(await page.getByRole("button", { name: "Send" }).isDisabled()).toBe(true);

    await keyField.fill("not-the-key");
    await keyField.press("Enter");
    await page.locator("#key-error", { hasText: "Incorrect API key provided." }).waitFor();
    await page.screenshot({ path: screenshotPath("playground-api-key.png") });

    await keyField.fill(API_KEY);
    await keyField.press("Enter");
    await page.locator(`#model option[value="${server.model}"]`).waitFor({ state: "attached" });
    await keyField.waitFor({ state: "hidden" });
    await page.getByLabel("Temperature").fill("0");
    await page.getByLabel("Message").fill("What is 123 + 456?");
    await page.getByLabel("Message").press("Enter");
    await page.locator(".message.assistant .meta", { hasText: "finish_reason: stop" }).waitFor();
    expect(await page.locator(".message.assistant .content").textContent()).toBe("579");

    const chat = apiRequests.find((request) => request.method() === "POST");
    expect(chat && (await chat.allHeaders()).authorization).toBe(`Bearer ${API_KEY}`);
    // Strings, because these tests are type-checked against Node's globals, not the DOM's.
    const stored = await page.evaluate("[localStorage.length, sessionStorage.length, document.cookie]");
    expect(stored).toEqual([0, 0, ""]);
    expect(await keyField.inputValue()).toBe("");
    expect(await context.cookies()).toEqual([]);
    expect(consoleErrors.filter((e) => !e.includes("401"))).toEqual([]);
    await context.close();
  });
});
