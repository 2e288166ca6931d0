/**
 * The `pull` command as a user meets it: argument errors with the usage
 * and exit 2, a failed pull as one line and exit 1, the default folder
 * under MODELS_DIR, the up-to-date second run.
 */
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { createServer, type AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PULL_USAGE, runPullCli } from "../../src/hub/pull-cli.ts";
import { hubModelDir } from "../../src/model/model-source.ts";
import { collectOutput, type CollectedOutput } from "./support/collect-output.ts";
import { startFakeHub, type FakeHub } from "./support/fake-hub.ts";
import { fakeRepos, GATED_REPO, TINY_REPO } from "./support/fake-repos.ts";

let hub: FakeHub;
let root: string;

beforeAll(async () => {
  hub = await startFakeHub(fakeRepos());
  root = mkdtempSync(join(tmpdir(), "pull-cli-"));
});
afterAll(async () => {
  await hub?.close();
  if (root) rmSync(root, { recursive: true, force: true });
});

/** A loopback port nothing listens on: taken from the OS, then let go. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function run(argv: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; output: CollectedOutput; err: string[] }> {
  const output = collectOutput();
  const err: string[] = [];
  const code = await runPullCli(argv, { output, err: (line) => err.push(line), env: { HF_ENDPOINT: hub.url, ...env }, retry: { retries: 1, baseDelayMs: 1 } });
  return { code, output, err };
}

describe("pull CLI", () => {
  it.each([
    [[], "error: the repo id (owner/name) is required"],
    [["not-a-repo"], `error: "not-a-repo" is not a Hub repo id (owner/name of letters, digits, '-', '_' and '.')`],
    [["a/b", "c/d"], "error: one repo id at a time, got a/b c/d"],
    [[TINY_REPO, "--bogus"], "error: Unknown option '--bogus'"],
    [[TINY_REPO, "--dtype", "q5"], 'error: --dtype: expected auto, fp32, fp32-fused, fp16, q8, int8, uint8, q4, q4f16, bnb4, got "q5"'],
    [[TINY_REPO, "--device", "tpu"], 'error: --device: expected cpu or cuda, got "tpu"'],
    [[TINY_REPO, "--dir", ""], "error: --dir: expected a path"],
  ])("%j: usage and exit 2", async (argv, message) => {
    const { code, err, output } = await run(argv);
    expect(code).toBe(2);
    expect(err).toEqual([`${message}\n${PULL_USAGE}`]);
    expect(output.text()).toBe("");
  });

  it("a bad env var is named", async () => {
    const { code, err } = await run([TINY_REPO], { DTYPE: "q5" });
    expect(code).toBe(2);
    expect(err[0].split("\n")[0]).toBe('error: DTYPE: expected auto, fp32, fp32-fused, fp16, q8, int8, uint8, q4, q4f16, bnb4, got "q5"');
  });

  it("--help prints the usage", async () => {
    const { code, output } = await run(["--help"]);
    expect(code).toBe(0);
    expect(output.text()).toBe(`${PULL_USAGE}\n`);
  });

  it("pulls into MODELS_DIR/owner/name, then is up to date", async () => {
    const modelsDir = join(root, "models");
    const dir = hubModelDir(modelsDir, TINY_REPO, "main");
    const first = await run([TINY_REPO, "--dtype", "q4"], { MODELS_DIR: modelsDir });
    expect(first.err).toEqual([]);
    expect(first.code).toBe(0);
    expect(existsSync(join(dir, "onnx/model_q4.onnx"))).toBe(true);
    const lines = first.output.lines();
    expect(lines.at(-2)).toMatch(new RegExp(`^pulled ${TINY_REPO}@main .*; ${dir}$`));
    expect(lines.at(-1)).toBe(`serve it with: --model ${TINY_REPO} --dtype q4`);

    hub.requests.length = 0;
    const second = await run([TINY_REPO, "--dtype", "q4", "--models-dir", modelsDir]);
    expect(second.code).toBe(0);
    expect(hub.requests).toEqual([]);
    expect(second.output.lines()[0]).toMatch(/is up to date in .*nothing to download$/);
    expect(second.output.lines()[1]).toBe(`serve it with: --model ${TINY_REPO} --models-dir ${modelsDir} --dtype q4`);
  });

  it("--dir fills that folder instead", async () => {
    const dir = join(root, "elsewhere");
    const { code, output } = await run([TINY_REPO, "--dtype", "q8", "--dir", dir]);
    expect(code).toBe(0);
    expect(existsSync(join(dir, "onnx/model_quantized.onnx"))).toBe(true);
    expect(output.lines().at(-1)).toBe(`serve it with: --model ${dir} --dtype q8`);
  });

  it("an unknown repo and a gated repo: one line each, exit 1", async () => {
    const unknown = await run(["test-org/nope", "--dir", join(root, "nope")]);
    expect(unknown.code).toBe(1);
    expect(unknown.err).toEqual([`error: no model repo test-org/nope (or no revision "main") on ${hub.url}`]);

    const gated = await run([GATED_REPO, "--dir", join(root, "gated")]);
    expect(gated.code).toBe(1);
    expect(gated.err).toEqual([
      `error: ${GATED_REPO} on ${hub.url} is gated or private (HTTP 401): set HF_TOKEN to a token with access and accept the model's licence at ${hub.url}/${GATED_REPO}`,
    ]);
  });

  it("an unreachable endpoint fails after its retries, in one line", async () => {
    const endpoint = `http://127.0.0.1:${await closedPort()}`;
    const { code, err } = await run([TINY_REPO, "--dir", join(root, "offline")], { HF_ENDPOINT: endpoint });
    expect(code).toBe(1);
    expect(err).toEqual([`error: reading the revision of ${TINY_REPO} on ${endpoint}: fetch failed (ECONNREFUSED); gave up after 2 tries`]);
  });

  it("a bad HF_ENDPOINT is one line", async () => {
    const { code, err } = await run([TINY_REPO, "--dir", join(root, "bad-endpoint")], { HF_ENDPOINT: "huggingface.co" });
    expect(code).toBe(1);
    expect(err).toEqual(['error: HF_ENDPOINT: expected an http(s) URL such as https://huggingface.co, got "huggingface.co"']);
  });
});
