/**
 * pullModel against a fake Hub over real HTTP: what lands in the folder,
 * resume, verification, the manifest's offline answer, and the errors a
 * user meets.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { HubError } from "../../src/hub/hub-error.ts";
import { MANIFEST_FILE } from "../../src/hub/pull-manifest.ts";
import { pullModel, type PullOptions } from "../../src/hub/pull-model.ts";
import { loadModelFolder } from "../../src/model/model-folder.ts";
import { postJson, startLiveServer } from "../support/live-server.ts";
import { collectOutput } from "./support/collect-output.ts";
import { startFakeHub, type FakeHub } from "./support/fake-hub.ts";
import { fakeRepos, GATED_REPO, GATED_TOKEN, GENAI_REPO, SERVING_FILES, tinyChatFiles, TINY_REPO } from "./support/fake-repos.ts";

const FAST_RETRY = { retries: 4, baseDelayMs: 1 };
/** A progress line's rate: `3.2 MB/s`, or `- B/s` when a file came too fast to measure. */
const RATE = "([\\d.]+ (B|kB|MB|GB)|- B)/s";
const source = tinyChatFiles();

let hub: FakeHub;
let root: string;
let count = 0;
const freshDir = (): string => join(root, `pull-${++count}`);

/** Every file under `dir`, relative, sorted. */
function listFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) out.push(join(entry.parentPath, entry.name).slice(dir.length + 1));
  }
  return out.sort();
}

function pull(options: Partial<PullOptions> & { dir: string }) {
  const output = collectOutput();
  const done = pullModel({ repo: TINY_REPO, endpoint: hub.url, token: null, output, retry: FAST_RETRY, ...options });
  return { output, done };
}

beforeAll(async () => {
  hub = await startFakeHub(fakeRepos());
  root = mkdtempSync(join(tmpdir(), "pull-model-"));
});
afterAll(async () => {
  await hub?.close();
  if (root) rmSync(root, { recursive: true, force: true });
});
beforeEach(() => {
  hub.requests.length = 0;
  hub.ignoreRange = false;
});

describe("pullModel", () => {
  it("auto: the serving files and onnx/model.onnx, byte for byte, and the folder serves a completion", async () => {
    const dir = freshDir();
    const { output, done } = pull({ dir });
    const result = await done;

    expect(listFiles(dir)).toEqual([MANIFEST_FILE, ...SERVING_FILES, "onnx/model.onnx"].sort());
    for (const file of [...SERVING_FILES, "onnx/model.onnx"]) expect(readFileSync(join(dir, file)).equals(source[file])).toBe(true);
    expect(result).toMatchObject({ dir, repo: TINY_REPO, revision: "main", commit: hub.commitOf(TINY_REPO), dtype: "fp32", onnxFile: "onnx/model.onnx", upToDate: false, downloadedFiles: 5 });
    expect(result.downloadedBytes).toBe([...SERVING_FILES, "onnx/model.onnx"].reduce((sum, f) => sum + source[f].length, 0));

    // The non-TTY progress: the plan, one line per file when it is done, the summary.
    const lines = output.lines();
    expect(lines[0]).toBe(`pulling ${TINY_REPO}@main (commit ${hub.commitOf(TINY_REPO).slice(0, 7)}) into ${dir}: dtype fp32 (onnx/model.onnx), 5 of 5 files to download, 10.6 MB`);
    expect(lines).toContainEqual(expect.stringMatching(new RegExp(`^onnx/model\\.onnx 10\\.6/10\\.6 MB ${RATE} done$`)));
    expect(lines).toContainEqual(expect.stringMatching(new RegExp(`^tokenizer\\.json 12\\.7/12\\.7 kB ${RATE} done$`)));
    expect(lines).toContainEqual(expect.stringMatching(new RegExp(`^config\\.json 711/711 B ${RATE} done$`)));
    expect(lines.at(-1)).toMatch(new RegExp(`^pulled ${TINY_REPO}@main \\(commit [0-9a-f]{7}, dtype fp32\\): 5 files, 10\\.6 MB downloaded in [\\d.]+ (s|min), 0 already there; ${dir}$`));
    // Every periodic line has the same shape: name have/size unit rate ETA.
    for (const line of lines.slice(1, -1)) expect(line).toMatch(new RegExp(`^\\S+ [\\d.]+/[\\d.]+ (B|kB|MB|GB) ${RATE} (done|ETA ([\\d.]+ s|\\d+ min \\d+ s|-))$`));

    const manifest = JSON.parse(readFileSync(join(dir, MANIFEST_FILE), "utf8")) as { repo: string; revision: string; pulls: unknown[]; files: Record<string, { size: number; sha256: string }> };
    expect(manifest).toMatchObject({ repo: TINY_REPO, revision: "main", pulls: [{ commit: hub.commitOf(TINY_REPO), requested: "auto", device: "cpu", dtype: "fp32", onnxFile: "onnx/model.onnx" }] });
    expect(manifest.files["onnx/model.onnx"].size).toBe(source["onnx/model.onnx"].length);

    const folder = loadModelFolder(dir);
    expect(folder.dtype).toBe("fp32");
    expect(folder.onnxPath).toBe(join(dir, "onnx/model.onnx"));
    const server = await startLiveServer(dir);
    try {
      const response = await postJson(`${server.url}/v1/completions`, { model: server.model, prompt: "Hello", max_tokens: 3, temperature: 0 });
      expect(response.status).toBe(200);
      const body = (await response.json()) as { choices: Array<{ text: string }> };
      expect(body.choices).toHaveLength(1);
    } finally {
      await server.close();
    }
  });

  it("a second pull of the same repo, revision and dtype makes no request at all", async () => {
    const dir = freshDir();
    await pull({ dir, dtype: "q4" }).done;
    hub.requests.length = 0;
    const { output, done } = pull({ dir, dtype: "q4" });
    const result = await done;
    expect(hub.requests).toEqual([]);
    expect(result).toMatchObject({ upToDate: true, downloadedFiles: 0, downloadedBytes: 0, dtype: "q4", onnxFile: "onnx/model_q4.onnx", commit: hub.commitOf(TINY_REPO) });
    expect(result.files.map((f) => f.path)).toEqual([...SERVING_FILES, "onnx/model_q4.onnx"]);
    expect(output.lines()).toEqual([`${TINY_REPO}@main is up to date in ${dir} (dtype q4, commit ${hub.commitOf(TINY_REPO).slice(0, 7)}): nothing to download`]);

    // An auto pull that chose q4 is not the same request: auto asks the Hub (and prefers model.onnx).
    const auto = await pull({ dir }).done;
    expect(hub.requests.length).toBeGreaterThan(0);
    expect(auto.dtype).toBe("fp32");
    // --refresh asks again, and fetches nothing that has not changed.
    hub.requests.length = 0;
    const refreshed = await pull({ dir, dtype: "q4", refresh: true }).done;
    expect(refreshed).toMatchObject({ upToDate: false, downloadedFiles: 0 });
    expect(hub.requests.filter((r) => r.url.includes("/resolve/") || r.server === "content")).toEqual([]);
  });

  it("a file deleted since the last pull makes the pull ask the Hub and fetch just that file", async () => {
    const dir = freshDir();
    await pull({ dir, dtype: "q4" }).done;
    rmSync(join(dir, "tokenizer.json"));
    const result = await pull({ dir, dtype: "q4" }).done;
    expect(result).toMatchObject({ upToDate: false, downloadedFiles: 1, downloadedBytes: source["tokenizer.json"].length });
    expect(readFileSync(join(dir, "tokenizer.json")).equals(source["tokenizer.json"])).toBe(true);
  });

  it("--dtype q4 fetches just that ONNX file beside the serving files", async () => {
    const dir = freshDir();
    const result = await pull({ dir, dtype: "q4" }).done;
    expect(listFiles(dir)).toEqual([MANIFEST_FILE, ...SERVING_FILES, "onnx/model_q4.onnx"].sort());
    expect(result).toMatchObject({ dtype: "q4", onnxFile: "onnx/model_q4.onnx", downloadedFiles: 5 });
    expect(readFileSync(join(dir, "onnx/model_q4.onnx")).equals(source["onnx/model_q4.onnx"])).toBe(true);
    expect(loadModelFolder(dir).dtype).toBe("q4");
    // Only the LFS file went to the content host.
    expect(hub.requests.filter((r) => r.server === "content").map((r) => r.url.split("?")[0])).toHaveLength(1);
  });

  it("fetches the chosen file's external data, and only that", async () => {
    const dir = freshDir();
    const result = await pull({ dir, dtype: "fp16" }).done;
    const onnx = ["onnx/model_fp16.onnx", "onnx/model_fp16.onnx_data", "onnx/model_fp16.onnx_data_1"];
    expect(listFiles(dir)).toEqual([MANIFEST_FILE, ...SERVING_FILES, ...onnx].sort());
    for (const file of onnx) expect(readFileSync(join(dir, file)).equals(source[file])).toBe(true);
    expect(result.files.map((f) => f.path)).toEqual([...SERVING_FILES, ...onnx]);
  });

  it("a download cut mid-file resumes with Range and ends with the right bytes", async () => {
    const dir = freshDir();
    hub.cutOnce("onnx/model_q4.onnx", 700_000);
    const result = await pull({ dir, dtype: "q4" }).done;
    expect(readFileSync(join(dir, "onnx/model_q4.onnx")).equals(source["onnx/model_q4.onnx"])).toBe(true);
    const downloads = hub.requests.filter((r) => r.server === "content");
    expect(downloads).toHaveLength(2);
    expect(downloads[0].range).toBeNull();
    // The second asks for the rest, from what reached the disk (at most what the server sent).
    const resumedAt = Number(/^bytes=(\d+)-$/.exec(downloads[1].range ?? "")?.[1]);
    expect(resumedAt).toBeGreaterThan(0);
    expect(resumedAt).toBeLessThanOrEqual(700_000);
    expect(result.downloadedBytes).toBe(Object.values(result.files).reduce((sum, f) => sum + f.size, 0));
    expect(existsSync(join(dir, "onnx/model_q4.onnx.incomplete"))).toBe(false);
  });

  it("resumes what an interrupted pull left in <file>.incomplete, and starts over when the server ignores Range", async () => {
    const dir = freshDir();
    const file = "onnx/model_quantized.onnx";
    mkdirSync(join(dir, "onnx"), { recursive: true });
    writeFileSync(join(dir, `${file}.incomplete`), source[file].subarray(0, 1_000_000));
    const resumed = await pull({ dir, dtype: "q8" }).done;
    expect(readFileSync(join(dir, file)).equals(source[file])).toBe(true);
    expect(hub.requests.find((r) => r.server === "content")?.range).toBe("bytes=1000000-");
    const others = SERVING_FILES.reduce((sum, f) => sum + source[f].length, 0);
    expect(resumed.downloadedBytes).toBe(others + source[file].length - 1_000_000);

    const again = freshDir();
    mkdirSync(join(again, "onnx"), { recursive: true });
    writeFileSync(join(again, `${file}.incomplete`), source[file].subarray(0, 1_000_000));
    hub.ignoreRange = true;
    await pull({ dir: again, dtype: "q8" }).done;
    expect(readFileSync(join(again, file)).equals(source[file])).toBe(true);
  });

  it("a partial file that is not the start of this file is dropped and fetched again whole", async () => {
    const dir = freshDir();
    const file = "onnx/model_q4.onnx";
    mkdirSync(join(dir, "onnx"), { recursive: true });
    writeFileSync(join(dir, `${file}.incomplete`), Buffer.alloc(500_000, 7));
    await pull({ dir, dtype: "q4" }).done;
    expect(readFileSync(join(dir, file)).equals(source[file])).toBe(true);
  });

  it("retries a 503 and goes on", async () => {
    const dir = freshDir();
    hub.failOnce("onnx/model_q4.onnx", 503);
    hub.failOnce("config.json", 429);
    await pull({ dir, dtype: "q4" }).done;
    expect(readFileSync(join(dir, "onnx/model_q4.onnx")).equals(source["onnx/model_q4.onnx"])).toBe(true);
    expect(hub.requests.filter((r) => r.url.endsWith("/config.json"))).toHaveLength(2);
  });

  it("refuses a file whose bytes do not match the listed sha256 and removes the temp file", async () => {
    const corruptHub = await startFakeHub(fakeRepos());
    corruptHub.corrupt("onnx/model_q4.onnx");
    const dir = freshDir();
    try {
      const attempt = pullModel({ repo: TINY_REPO, dir, dtype: "q4", endpoint: corruptHub.url, token: null, output: collectOutput(), retry: FAST_RETRY });
      await expect(attempt).rejects.toThrow(HubError);
      await expect(attempt).rejects.toThrow(/^onnx\/model_q4\.onnx: the downloaded bytes do not match the Hub's sha256 \(expected [0-9a-f]{64}, got [0-9a-f]{64}\); the download was removed: pull again \(if it happens again, the endpoint or a proxy serves other bytes than it lists\)$/);
      expect(existsSync(join(dir, "onnx/model_q4.onnx"))).toBe(false);
      expect(existsSync(join(dir, "onnx/model_q4.onnx.incomplete"))).toBe(false);
      // A git file is checked against its blob id.
      corruptHub.corrupt("tokenizer.json");
      await expect(pullModel({ repo: TINY_REPO, dir: freshDir(), dtype: "q4", endpoint: corruptHub.url, token: null, output: collectOutput(), retry: FAST_RETRY })).rejects.toThrow(
        /^tokenizer\.json: the downloaded bytes do not match the Hub's git blob id/,
      );
    } finally {
      await corruptHub.close();
    }
  });

  it("an unknown repo or revision is one line", async () => {
    await expect(pull({ dir: freshDir(), repo: "test-org/nope" }).done).rejects.toThrow(`no model repo test-org/nope (or no revision "main") on ${hub.url}`);
    await expect(pull({ dir: freshDir(), revision: "v9" }).done).rejects.toThrow(`${TINY_REPO} has no revision "v9" on ${hub.url}`);
  });

  it("a gated repo: one line without the token or with another; the token never reaches the content host", async () => {
    const page = `${hub.url}/${GATED_REPO}`;
    await expect(pull({ dir: freshDir(), repo: GATED_REPO }).done).rejects.toThrow(
      `${GATED_REPO} on ${hub.url} is gated or private (HTTP 401): set HF_TOKEN to a token with access and accept the model's licence at ${page}`,
    );
    await expect(pull({ dir: freshDir(), repo: GATED_REPO, token: "hf_other" }).done).rejects.toThrow(
      `${GATED_REPO} on ${hub.url} is gated or private and HF_TOKEN has no access (HTTP 403): accept the model's licence at ${page}`,
    );
    hub.requests.length = 0;
    const dir = freshDir();
    await pull({ dir, repo: GATED_REPO, token: GATED_TOKEN, dtype: "q4" }).done;
    expect(readFileSync(join(dir, "onnx/model_q4.onnx")).equals(source["onnx/model_q4.onnx"])).toBe(true);
    const byServer = (server: "hub" | "content") => hub.requests.filter((r) => r.server === server);
    expect(byServer("hub").every((r) => r.authorization === `Bearer ${GATED_TOKEN}`)).toBe(true);
    expect(byServer("content")).toHaveLength(1);
    expect(byServer("content")[0].authorization).toBeNull();
  });

  it("an explicit dtype the repo lacks lists the ONNX files it has", async () => {
    await expect(pull({ dir: freshDir(), dtype: "int8" }).done).rejects.toThrow(
      `${TINY_REPO}@main has no int8 model (expected onnx/model_int8.onnx or onnx/decoder_model_merged_int8.onnx); its ONNX files: onnx/model.onnx, onnx/model_fp16.onnx, onnx/model_q4.onnx, onnx/model_quantized.onnx; it has --dtype fp32, fp16, q8, q4`,
    );
  });

  it("the genai layout: genai_config.json's decoder file for auto, the dtype names beside it otherwise", async () => {
    const dir = freshDir();
    const result = await pull({ dir, repo: GENAI_REPO }).done;
    expect(result).toMatchObject({ dtype: "fp32", onnxFile: "decoder.onnx", downloadedFiles: 4 });
    expect(listFiles(dir)).toEqual([MANIFEST_FILE, "decoder.onnx", "genai_config.json", "tokenizer.json", "tokenizer_config.json"].sort());
    const folder = loadModelFolder(dir);
    expect(folder.layout).toBe("genai");
    expect(folder.onnxPath).toBe(join(dir, "decoder.onnx"));

    const q8 = await pull({ dir, repo: GENAI_REPO, dtype: "q8" }).done;
    expect(q8).toMatchObject({ dtype: "q8", onnxFile: "model_quantized.onnx", downloadedFiles: 1 });
    expect(loadModelFolder(dir, "q8").onnxPath).toBe(join(dir, "model_quantized.onnx"));
  });

  it("draws bars on a terminal", async () => {
    const output = collectOutput(true);
    await pullModel({ repo: TINY_REPO, dir: freshDir(), dtype: "q4", endpoint: hub.url, token: null, output, retry: FAST_RETRY });
    const text = output.text();
    expect(text).toContain("total (5 files)");
    expect(text).toMatch(/onnx\/model_q4\.onnx\s+\|[^|]+\| 100% 2\.1\/2\.1 MB/);
    expect(output.lines().at(-1)).toMatch(/^pulled test-org\/tiny-chat@main/);
  });

  it("refuses a bad repo id or endpoint before any request", async () => {
    await expect(pull({ dir: freshDir(), repo: "not a repo" }).done).rejects.toThrow('"not a repo" is not a Hub repo id (owner/name)');
    await expect(pull({ dir: freshDir(), endpoint: "ftp://mirror" }).done).rejects.toThrow("endpoint: expected an http(s) URL");
    expect(hub.requests).toEqual([]);
  });
});
