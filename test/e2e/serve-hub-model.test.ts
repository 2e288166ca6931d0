/**
 * `npm start -- --model owner/name`, the whole process against a fake Hub:
 * the first start pulls into --models-dir and serves under the repo id; a
 * second start with --pull never serves the same folder with the Hub gone;
 * --pull never on a model that was never pulled stops with the command
 * that fetches it.
 */
import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hubModelDir } from "../../src/model/model-source.ts";
import { startFakeHub, type FakeHub } from "../hub/support/fake-hub.ts";
import { fakeRepos, TINY_REPO } from "../hub/support/fake-repos.ts";
import { haveDefaultModel } from "../support/fixtures.ts";
import { collectOutput, readyUrl, startServer } from "../support/server-process.ts";

describe.skipIf(!haveDefaultModel)("serving a Hub model by its repo id", () => {
  let hub: FakeHub | null;
  let modelsDir: string;
  beforeAll(async () => {
    hub = await startFakeHub(fakeRepos());
    modelsDir = mkdtempSync(join(tmpdir(), "models-dir-"));
  });
  afterAll(async () => {
    await hub?.close();
    rmSync(modelsDir, { recursive: true, force: true });
  });

  async function serveOnce(args: string[], env: NodeJS.ProcessEnv): Promise<{ models: Array<Record<string, unknown>>; stderr: string }> {
    const child = startServer(["--model", TINY_REPO, "--port", "0", "--threads", "1", "--models-dir", modelsDir, ...args], env);
    const stdout = collectOutput(child);
    const stderr = collectOutput(child, "stderr");
    try {
      const url = await readyUrl(child, stdout);
      const res = await fetch(`${url}/v1/models`);
      return { models: ((await res.json()) as { data: Array<Record<string, unknown>> }).data, stderr: stderr.text() };
    } finally {
      child.kill("SIGTERM");
      await once(child, "exit");
    }
  }

  it("pulls on first start, then serves under owner/name", async () => {
    const { models, stderr } = await serveOnce(["--dtype", "q4"], { HF_ENDPOINT: hub!.url });
    expect(models).toEqual([expect.objectContaining({ id: TINY_REPO, dtype: "q4", file: join("onnx", "model_q4.onnx"), layout: "optimum" })]);
    expect(stderr).toContain("model_q4.onnx");
    expect(hub!.requests.some((r) => r.url.includes("model_q4.onnx"))).toBe(true);
    expect(hub!.requests.some((r) => r.url.includes("/model.onnx"))).toBe(false);
  });

  it("--pull never serves the pulled folder with the Hub gone, without a request", async () => {
    await hub!.close();
    hub = null;
    const { models } = await serveOnce(["--dtype", "q4", "--pull", "never"], { HF_ENDPOINT: "http://127.0.0.1:9" });
    // Any request would fail the start: the Hub is closed and the endpoint is a port nothing listens on.
    expect(models[0]).toMatchObject({ id: TINY_REPO, dtype: "q4" });
  });

  it("--pull never on a model that is not there: one line with the command that fetches it, exit code 1", async () => {
    const child = startServer(["--model", "test-org/never-pulled", "--port", "0", "--models-dir", modelsDir, "--pull", "never"]);
    const stderr = collectOutput(child, "stderr");
    const [code] = (await once(child, "exit")) as [number];
    expect(code).toBe(1);
    expect(stderr.text().trim()).toBe(
      `error: cannot serve model: ${hubModelDir(modelsDir, "test-org/never-pulled", "main")}: test-org/never-pulled is not pulled here (--pull never): run npm run pull -- test-org/never-pulled, or start with --pull missing`,
    );
  });
});
