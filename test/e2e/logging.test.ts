/**
 * docs/RELIABILITY.md "Access": secrets are never logged. Checked on the
 * real process (src/main.ts builds its logger with the same factory as the
 * app), at the most verbose level, with keys given the recommended way
 * (API_KEYS) and the request paths that touch them: accepted, refused, a
 * generation and its cancel. Prompts are not logged either (no --log-prompts).
 */
import { once } from "node:events";
import { describe, expect, it } from "vitest";
import { defaultModelPath } from "../support/fixtures.ts";
import { postJson } from "../support/live-server.ts";
import { collectOutput, readyUrl, startServer } from "../support/server-process.ts";

const KEY = "sk-live-do-not-log-7f3a";
const WRONG = "sk-wrong-do-not-log-91bd";

describe("the server process's logs", () => {
  it("never contain an API key, accepted or refused, at log level trace", async () => {
    const child = startServer(["--model", defaultModelPath, "--port", "0"], { API_KEYS: KEY, LOG_LEVEL: "trace" });
    const stdout = collectOutput(child, "stdout");
    const stderr = collectOutput(child, "stderr");
    const url = await readyUrl(child, stdout);
    const auth = (key: string): Record<string, string> => ({ authorization: `Bearer ${key}` });

    expect((await fetch(`${url}/v1/models`, { headers: auth(KEY) })).status).toBe(200);
    expect((await fetch(`${url}/v1/models`, { headers: auth(WRONG) })).status).toBe(401);
    expect((await fetch(`${url}/metrics`, { headers: auth(WRONG) })).status).toBe(401);
    const body = { model: "tiny-chat", messages: [{ role: "user", content: "What is 2 + 3?" }], max_tokens: 4, temperature: 0 };
    const answer = await postJson(`${url}/v1/chat/completions`, body, { ...auth(KEY), "x-request-id": "log-check-1" });
    expect(answer.status).toBe(200);
    const cancel = await postJson(`${url}/v1/chat/completions/log-check-1/cancel`, {}, auth(KEY));
    expect(cancel.status).toBe(200);

    const exited = once(child, "exit");
    child.kill("SIGTERM");
    await exited;
    const logs = stdout.text() + stderr.text();
    // The log is there to be checked: request lines at trace level, with the refused ones.
    expect(logs).toMatch(/"statusCode":401/);
    expect(logs).toMatch(/log-check-1/);
    expect(logs).not.toContain(KEY);
    expect(logs).not.toContain(WRONG);
    // The generation's own line, and no prompt text anywhere without --log-prompts.
    expect(logs).toMatch(/"clientRequestId":"log-check-1"[^\n]*"msg":"generation finished"/);
    expect(logs).not.toContain("2 + 3");
  });
});
