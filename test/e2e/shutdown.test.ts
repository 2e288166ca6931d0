/**
 * SIGTERM on the real process (npm start's entry, src/main.ts): new requests
 * get 503 at once, in-flight streams run until the grace period ends and are
 * then cancelled cleanly, and the process exits 0 with no thread left.
 * Also: bad flags and unservable folders fail at start with one line.
 */
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { once } from "node:events";
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { fixturePath, haveFixtures, repoRoot } from "../support/fixtures.ts";
import { postJson, readSse } from "../support/live-server.ts";

function startServer(args: string[]): ChildProcessWithoutNullStreams {
  return spawn(process.execPath, ["--import", "tsx", "src/main.ts", ...args], { cwd: repoRoot, env: { ...process.env, LOG_LEVEL: "info" } });
}

/** Collects the child's stdout (never destroying the stream) and waits for lines in it. */
function stdoutLog(child: ChildProcessWithoutNullStreams): { text: () => string; waitFor: (re: RegExp) => Promise<RegExpExecArray> } {
  let out = "";
  child.stdout.on("data", (c) => (out += String(c)));
  return {
    text: () => out,
    async waitFor(re) {
      for (;;) {
        const match = re.exec(out);
        if (match) return match;
        if (child.exitCode !== null) throw new Error(`server exited: ${out}`);
        await Promise.race([once(child.stdout, "data"), once(child, "exit")]);
      }
    },
  };
}

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
  it.skipIf(!haveFixtures)("SIGTERM: 503 for new work, in-flight streams cancelled after the grace period, exit 0", async () => {
    const child = startServer(["--model", fixturePath("tiny-random-LlamaForCausalLM-fp32-reconstructed"), "--port", "0", "--shutdown-grace-ms", "300"]);
    const log = stdoutLog(child);
    const url = (await log.waitFor(/listening at (http:\/\/127\.0\.0\.1:\d+)/i))[1]!;
    const exited = once(child, "exit");
    const model = "tiny-random-LlamaForCausalLM-fp32-reconstructed";
    const res = await postJson(`${url}/v1/chat/completions`, {
      model,
      messages: [{ role: "user", content: "he was on it" }],
      max_tokens: 1900,
      temperature: 0, // a sampled row could draw EOS before the grace period ends
      stream: true,
    });
    let refused: number | null = null;
    const events = await readSse(res, async (_e, i) => {
      if (i !== 2) return;
      child.kill("SIGTERM");
      await log.waitFor(/shutting down/);
      const late = await postJson(`${url}/v1/chat/completions`, { model, messages: [{ role: "user", content: "hi" }], max_tokens: 2 });
      refused = late.status;
    });
    expect(refused).toBe(503);
    expect(events.at(-1)!.raw).toBe("[DONE]");
    expect((events.at(-2)!.json!.choices as Array<{ finish_reason: string }>)[0]!.finish_reason).toBe("cancelled");
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

  it.skipIf(!haveFixtures || cudaInstalled)("--device cuda without the CUDA binaries fails at start saying how to install them", async () => {
    const { code, stderr } = await runToExit(["--model", fixturePath("tiny-graph-capture-gqa-fp16"), "--device", "cuda"]);
    expect(code).toBe(1);
    const reason = stderr.split("\n").filter((l) => l.startsWith("error:"));
    expect(reason).toHaveLength(1);
    expect(reason[0]).toMatch(/CUDA execution provider/);
    expect(reason[0]).toMatch(/ONNXRUNTIME_NODE_INSTALL=cuda12/);
  });
});
