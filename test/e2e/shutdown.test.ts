/**
 * SIGTERM on the real process (npm start's entry, src/main.ts) serving the
 * shipped tiny-chat model: new requests get 503 at once, in-flight streams
 * run on within the grace period and are cancelled cleanly when it ends,
 * and the process exits 0 with no thread left.
 * Also: bad flags and unservable folders fail at start with one line.
 */
import { once } from "node:events";
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { eosBan, repoRoot, tinyChat } from "../support/fixtures.ts";
import { postJson, readSse, type SseEvent } from "../support/live-server.ts";
import { collectOutput, readyUrl, startServer } from "../support/server-process.ts";

async function runToExit(args: string[]): Promise<{ code: number | null; stderr: string }> {
  const child = startServer(args);
  let stderr = "";
  child.stderr.on("data", (c) => (stderr += String(c)));
  const [code] = (await once(child, "exit")) as [number | null];
  return { code, stderr };
}

// Present only when onnxruntime-node was installed with its CUDA binaries.
const cudaInstalled = existsSync(join(repoRoot, "node_modules/onnxruntime-node/bin/napi-v6/linux/x64/libonnxruntime_providers_cuda.so"));

describe("process life cycle", () => {
  const model = "tiny-chat";
  /** Rows that cannot end early: greedy, EOS banned, 450 tokens (the 33-token prompt + 450 fits the 512 context). */
  const longStream = (url: string): Promise<Response> =>
    postJson(`${url}/v1/chat/completions`, {
      model,
      messages: [{ role: "user", content: "What is 123 + 456?" }],
      max_tokens: 450,
      temperature: 0,
      logit_bias: eosBan(tinyChat),
      stream: true,
      stream_options: { include_usage: true },
    });
  const finishReason = (events: SseEvent[]): string => (events.at(-3)!.json!.choices as Array<{ finish_reason: string }>)[0].finish_reason;
  const completionTokens = (events: SseEvent[]): number => (events.at(-2)!.json!.usage as { completion_tokens: number }).completion_tokens;

  it("SIGTERM: 503 for new work at once; in-flight and queued streams still run to their end within the grace period; exit 0", async () => {
    // One row at a time: the first stream runs, the other two wait in the queue when SIGTERM lands.
    const child = startServer(["--model", tinyChat, "--port", "0", "--threads", "1", "--max-batch-size", "1", "--shutdown-grace-ms", "60000"]);
    const log = collectOutput(child);
    const url = await readyUrl(child, log);
    const exited = once(child, "exit");
    const [first, ...queued] = await Promise.all([longStream(url), longStream(url), longStream(url)]);
    let refused: number | null = null;
    let ready: number | null = null;
    const events = [
      await readSse(first!, async (_e, i) => {
        if (i !== 2) return;
        child.kill("SIGTERM");
        await log.waitFor(/shutting down/);
        const late = await postJson(`${url}/v1/chat/completions`, { model, messages: [{ role: "user", content: "Hello!" }], max_tokens: 2 });
        refused = late.status;
        ready = (await fetch(`${url}/ready`)).status;
      }),
      ...(await Promise.all(queued.map((r) => readSse(r)))),
    ];
    expect(refused).toBe(503);
    expect(ready).toBe(503);
    for (const e of events) {
      expect(e.at(-1)!.raw).toBe("[DONE]");
      expect(finishReason(e)).toBe("length");
      expect(completionTokens(e)).toBe(450);
    }
    const [code] = (await exited) as [number | null];
    expect(code).toBe(0);
  });

  it("SIGTERM: a stream still running when the grace period ends is cancelled cleanly (finish_reason, usage, [DONE]); exit 0", async () => {
    const child = startServer(["--model", tinyChat, "--port", "0", "--threads", "1", "--shutdown-grace-ms", "0"]);
    const log = collectOutput(child);
    const url = await readyUrl(child, log);
    const exited = once(child, "exit");
    const res = await longStream(url);
    const events = await readSse(res, (_e, i) => {
      if (i === 2) child.kill("SIGTERM");
    });
    expect(events.at(-1)!.raw).toBe("[DONE]");
    expect(finishReason(events)).toBe("cancelled");
    // Cut short by the shutdown: EOS is banned, so nothing else could end it before 450.
    expect(completionTokens(events)).toBeLessThan(450);
    const [code] = (await exited) as [number | null];
    expect(code).toBe(0);
  });

  it("a bad flag fails at start with a one-line reason", async () => {
    const { code, stderr } = await runToExit(["--port", "abc"]);
    expect(code).toBe(2);
    expect(stderr.trim().split("\n")).toHaveLength(1);
    expect(stderr).toMatch(/--port/);
  });

  it("a folder that cannot be served fails at start naming the file and the reason", async () => {
    const dir = mkdtempSync(join(tmpdir(), "bad-model-"));
    writeFileSync(join(dir, "config.json"), "{ not json");
    writeFileSync(join(dir, "tokenizer.json"), "{}");
    const { code, stderr } = await runToExit(["--model", dir]);
    expect(code).toBe(1);
    expect(stderr).toContain(join(dir, "config.json"));
    expect(stderr).toMatch(/not valid JSON/);
    expect(stderr.trim().split("\n")).toHaveLength(1);
  });

  it.skipIf(cudaInstalled)("--device cuda without the CUDA binaries fails at start saying how to install them", async () => {
    const { code, stderr } = await runToExit(["--model", tinyChat, "--device", "cuda"]);
    expect(code).toBe(1);
    const reason = stderr.split("\n").filter((l) => l.startsWith("error:"));
    expect(reason).toHaveLength(1);
    expect(reason[0]).toMatch(/CUDA execution provider/);
    expect(reason[0]).toMatch(/npm run install:cuda/);
  });
});
