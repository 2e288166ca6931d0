/**
 * SIGTERM on the real process (npm start's entry, src/main.ts) serving the
 * shipped tiny-chat model: it drains as a gateway can follow (the listener
 * closes, idle keep-alive connections close, a request that still arrives
 * on a kept-alive connection gets 503 with Connection: close and
 * Retry-After), in-flight streams run on within the grace period and are
 * cancelled cleanly when it ends, and the process exits 0 with no thread
 * left. Also: bad flags and unservable folders fail at start with one line.
 */
import { once } from "node:events";
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { eosBan, repoRoot, tinyChat } from "../support/fixtures.ts";
import { postJson, readSse, type SseEvent } from "../support/live-server.ts";
import { openConnection, parseResponses, untilRefused } from "../support/http-wire.ts";
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

  it("SIGTERM: new connections are refused at once; in-flight and queued streams still run to their end within the grace period; exit 0", async () => {
    // One row at a time: the first stream runs, the other two wait in the queue when SIGTERM lands.
    const child = startServer(["--model", tinyChat, "--port", "0", "--threads", "1", "--max-batch-size", "1", "--shutdown-grace-ms", "60000"]);
    const log = collectOutput(child);
    const url = await readyUrl(child, log);
    const port = Number(new URL(url).port);
    const exited = once(child, "exit");
    const [first, ...queued] = await Promise.all([longStream(url), longStream(url), longStream(url)]);
    let finishedWhenRefused = -1;
    const events = [
      await readSse(first!, async (_e, i) => {
        if (i !== 2) return;
        child.kill("SIGTERM");
        await log.waitFor(/shutting down/);
        // The listener closes right after that line is written, while these streams still run: the
        // second and third cannot have finished (each needs the rows before it, one at a time).
        await untilRefused(port);
        finishedWhenRefused = log.text().split('"msg":"generation finished"').length - 1;
      }),
      ...(await Promise.all(queued.map((r) => readSse(r)))),
    ];
    expect(finishedWhenRefused).toBeGreaterThanOrEqual(0);
    expect(finishedWhenRefused).toBeLessThan(2);
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

  it("SIGTERM drain: an idle keep-alive connection is closed, a request pipelined behind a running stream gets 503 with Connection: close and Retry-After, streams finish and their connections close; exit 0", async () => {
    // A keep-alive timeout far beyond the test: only the drain can close the idle connection.
    const child = startServer(["--model", tinyChat, "--port", "0", "--threads", "1", "--shutdown-grace-ms", "60000", "--keep-alive-timeout-ms", "600000"]);
    const log = collectOutput(child);
    const port = Number(new URL(await readyUrl(child, log)).port);
    const exited = once(child, "exit");
    // Start-up, first: the port opened before the model was loaded (so /health and /ready answered meanwhile).
    const started = (await log.waitFor(/^[\s\S]*"msg":"model loaded"/))[0];
    expect(started.search(/Server listening at http:\/\/127\.0\.0\.1:\d+/)).toBeGreaterThanOrEqual(0);
    expect(started.search(/Server listening at/)).toBeLessThan(started.indexOf('"msg":"model loaded"'));
    const endOfResponse = (bytes: Buffer): boolean => bytes.includes('{"status":"ok"}');

    const idle = await openConnection(port);
    idle.socket.write("GET /health HTTP/1.1\r\nHost: test\r\n\r\n");
    await idle.until(endOfResponse);

    // Two streams in one batch: `alone` ends 250 steps before `busy` (EOS banned, so max_tokens ends them).
    const [busy, alone] = await Promise.all([openConnection(port), openConnection(port)]);
    for (const [connection, maxTokens] of [[busy, 450], [alone, 200]] as const) {
      const body = JSON.stringify({
        model,
        messages: [{ role: "user", content: "What is 123 + 456?" }],
        max_tokens: maxTokens,
        temperature: 0,
        logit_bias: eosBan(tinyChat),
        stream: true,
        stream_options: { include_usage: true },
      });
      connection.socket.write(`POST /v1/chat/completions HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
      await connection.until((bytes) => bytes.includes('"content"'));
    }
    let busyDoneWhenAloneClosed: boolean | null = null;
    void alone.closed.then(() => (busyDoneWhenAloneClosed = busy.received().includes("[DONE]")));

    child.kill("SIGTERM");
    await idle.closed;
    expect(idle.received().toString("latin1").match(/HTTP\/1\.1 /g)).toHaveLength(1);
    await untilRefused(port);
    // A request that still arrives on a kept-alive connection: /ready, behind the running stream.
    busy.socket.write("GET /ready HTTP/1.1\r\nHost: test\r\n\r\n");
    await busy.closed;

    const [stream, late, ...more] = parseResponses(busy.received());
    expect(more).toEqual([]);
    expect(stream.status).toBe(200);
    const frames = stream.body.split("\n\n").filter((f) => f.startsWith("data: ")).map((f) => f.slice(6));
    expect(frames.at(-1)).toBe("[DONE]");
    const usage = JSON.parse(frames.at(-2)!) as { usage: { completion_tokens: number } };
    expect(usage.usage.completion_tokens).toBe(450);
    expect(late.status).toBe(503);
    expect(late.headers.connection).toBe("close");
    expect(late.headers["retry-after"]).toBe("1");
    expect(JSON.parse(late.body)).toMatchObject({ error: { type: "server_error", code: "service_unavailable", message: "The server is shutting down." } });
    // The other stream's connection was closed by the server as soon as its response ended, while
    // `busy` still streamed: not left to idle until the shutdown's end.
    await alone.closed;
    expect(busyDoneWhenAloneClosed).toBe(false);
    const [aloneStream, ...after] = parseResponses(alone.received());
    expect(after).toEqual([]);
    expect(aloneStream.body.endsWith("data: [DONE]\n\n")).toBe(true);
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
