/**
 * The playground in a real browser (Debian's Chromium through
 * playwright-core) against the real server on the shipped model: an answer
 * that grows frame by frame, live stats, and a Stop that goes through the
 * stop endpoint by the page's own X-Request-Id (not a dropped connection):
 * the page shows "cancelled" with the usage the endpoint returned, the
 * stream itself ends with finish_reason "cancelled", and /metrics counts
 * exactly one released row. Screenshots land in test-results/.
 */
import type { Browser, Request } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { collectConsoleErrors, launchChromium, reportSkippedBrowserTests, screenshotPath, skipBrowserTests } from "../support/chromium.ts";
import { eosBan, tinyChat } from "../support/fixtures.ts";
import { postJson, readSse, startLiveServer, until, type LiveServer } from "../support/live-server.ts";
import { parsePrometheusText, sampleValue } from "../support/prometheus-text.ts";

reportSkippedBrowserTests("playground-stream.test.ts");

/** Long enough that Stop lands mid-answer: prompt + 450 fits tiny-chat's 512-token context. */
const LONG = 450;

/**
 * Runs in the page: the visible answer's length, read at successive
 * animation frames until it has grown twice, or until the stream ended.
 * A string, because these tests are type-checked against Node's globals,
 * not the DOM's.
 */
const ANSWER_LENGTHS_AT_FRAMES = `new Promise((resolve) => {
  const lengths = [];
  const observe = () => {
    const answer = document.querySelector(".message.assistant:last-of-type .content");
    const length = answer ? answer.textContent.length : 0;
    if (length > 0 && (lengths.length === 0 || length > lengths[lengths.length - 1])) lengths.push(length);
    const streaming = document.getElementById("conversation").getAttribute("aria-busy") === "true";
    if (lengths.length >= 3 || !streaming) resolve(lengths);
    else requestAnimationFrame(observe);
  };
  requestAnimationFrame(observe);
})`;

/** One sample of the server's /metrics, read with the strict text-format parser the metrics tests use. */
const metricValue = async (server: LiveServer, name: string, labels: Record<string, string> = {}): Promise<number> =>
  sampleValue(parsePrometheusText(await (await fetch(`${server.url}/metrics`)).text()), name, labels);

describe.skipIf(skipBrowserTests)("the playground streams an answer and stops it through the stop endpoint", () => {
  let server: LiveServer;
  let browser: Browser;
  beforeAll(async () => {
    // The browser first: where it is missing (on CI) this fails before a model worker starts.
    browser = await launchChromium();
    server = await startLiveServer(tinyChat, { maxBatchSize: 2 });
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it("shows tokens as they arrive, and Stop cancels by X-Request-Id with the endpoint's usage", async () => {
    const page = await browser.newPage({ viewport: { width: 1000, height: 800 } });
    const consoleErrors = collectConsoleErrors(page);
    const posts: Request[] = [];
    page.on("request", (request) => {
      if (request.method() === "POST") posts.push(request);
    });
    await page.goto(`${server.url}/`);
    await page.locator(`#model option[value="${server.model}"]`).waitFor({ state: "attached" });
    expect(await page.getByRole("button", { name: "Stop" }).isDisabled()).toBe(true);
    await page.screenshot({ path: screenshotPath("playground-before.png") });

    await page.getByLabel("Temperature").fill("0");
    await page.getByLabel("Max tokens").fill(String(LONG));
    await page.getByText("More fields").click();
    // EOS banned: the answer runs to max_tokens unless stopped, whatever the model would say.
    await page.getByLabel(/Extra request fields/).fill(JSON.stringify({ logit_bias: eosBan(tinyChat) }));
    const releasedBefore = await metricValue(server, "onnx_server_release_steps_count");
    const stopsBefore = await metricValue(server, "onnx_server_cancels_total", { source: "endpoint" });
    await page.getByLabel("Message").fill("Count from 1 to 100.");
    await page.getByLabel("Message").press("Enter");

    const lengths = await page.evaluate<number[]>(ANSWER_LENGTHS_AT_FRAMES);
    expect(lengths).toHaveLength(3);
    expect(lengths[0]).toBeLessThan(lengths[1]);
    expect(lengths[1]).toBeLessThan(lengths[2]);
    await page.locator("#ttft", { hasText: /^\d+ ms$/ }).waitFor();
    await page.locator("#tokens-per-second", { hasText: /^\d+\.\d$/ }).waitFor();
    await page.screenshot({ path: screenshotPath("playground-streaming.png") });

    await page.getByRole("button", { name: "Stop" }).click();
    const status = page.locator("#run-status", { hasText: /^cancelled: \d+ completion tokens, \d+ prompt tokens$/ });
    await status.waitFor();
    // The stream was read to its end, not dropped: its last chunk said "cancelled".
    await page.locator(".message.assistant .meta", { hasText: "finish_reason: cancelled" }).waitFor();
    await page.locator("#conversation[aria-busy=false]").waitFor({ state: "attached" });
    await page.screenshot({ path: screenshotPath("playground-cancelled.png") });

    const [chat, cancel, ...others] = posts;
    expect(others).toEqual([]);
    expect(new URL(chat.url()).pathname).toBe("/v1/chat/completions");
    const requestId = (await chat.allHeaders())["x-request-id"];
    expect(requestId).toMatch(/^playground-[0-9a-f]{24}$/);
    expect(new URL(cancel.url()).pathname).toBe(`/v1/chat/completions/${requestId}/cancel`);
    const sent = JSON.parse(chat.postData() ?? "{}") as Record<string, unknown>;
    expect(sent).toMatchObject({ model: server.model, stream: true, stream_options: { include_usage: true }, temperature: 0, max_tokens: LONG });

    // The usage the page shows is the stop endpoint's; the stream's own usage chunk (the Tokens cell) agrees.
    const cancelled = Number(/^cancelled: (\d+)/.exec((await status.textContent()) ?? "")?.[1]);
    expect(cancelled).toBeGreaterThanOrEqual(3);
    expect(cancelled).toBeLessThan(LONG);
    expect(await page.locator("#tokens").textContent()).toBe(String(cancelled));
    expect(await page.getByRole("button", { name: "Stop" }).isDisabled()).toBe(true);
    expect(await page.getByRole("button", { name: "Send" }).isDisabled()).toBe(false);

    // The row leaves its batch at the worker's next step; /metrics then counts exactly one release, by the stop endpoint.
    await until(() => server.engine.health().running === 0);
    expect(await metricValue(server, "onnx_server_release_steps_count")).toBe(releasedBefore + 1);
    expect(await metricValue(server, "onnx_server_cancels_total", { source: "endpoint" })).toBe(stopsBefore + 1);
    expect(consoleErrors).toEqual([]);
    await page.close();
  });

  it("Stop works before the first chunk: a queued request is cancelled by the X-Request-Id the page sent", async () => {
    // Two long streams fill the worker's batch (maxBatchSize 2), so the page's request waits in the queue.
    const blockerIds = ["playground-blocker-1", "playground-blocker-2"];
    const blockers = await Promise.all(
      blockerIds.map((id) =>
        postJson(
          `${server.url}/v1/chat/completions`,
          { model: server.model, messages: [{ role: "user", content: "Hi" }], max_tokens: LONG, logit_bias: eosBan(tinyChat), stream: true },
          { "x-request-id": id },
        ),
      ),
    );
    const blockersDone = Promise.all(blockers.map((res) => readSse(res)));
    await until(() => server.engine.health().running === 2);

    const page = await browser.newPage();
    const consoleErrors = collectConsoleErrors(page);
    await page.goto(`${server.url}/`);
    await page.locator(`#model option[value="${server.model}"]`).waitFor({ state: "attached" });
    await page.getByLabel("Message").fill("What is 123 + 456?");
    await page.getByLabel("Message").press("Enter");
    await until(() => server.engine.health().queued === 1);
    await page.getByRole("button", { name: "Stop" }).click();

    await page.locator("#run-status", { hasText: /^cancelled: 0 completion tokens, \d+ prompt tokens$/ }).waitFor();
    await page.locator(".message.assistant .meta", { hasText: "finish_reason: cancelled" }).waitFor();
    expect(await page.locator(".message.assistant .content").textContent()).toBe("");
    expect(await page.locator("#ttft").textContent()).toBe("–");

    for (const id of blockerIds) await postJson(`${server.url}/v1/chat/completions/${id}/cancel`, {});
    await blockersDone;
    expect(consoleErrors).toEqual([]);
    await page.close();
  });
});
