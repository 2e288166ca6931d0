/** The small pieces of a pull: formatting, retry waits, the Link header, the manifest's matching rule. */
import { describe, expect, it } from "vitest";
import { formatBytes, formatProgress, formatRate, formatSeconds } from "../../src/hub/progress-format.ts";
import { answers, withPull, type PullManifest, type PullRecord } from "../../src/hub/pull-manifest.ts";
import { nextPage } from "../../src/hub/repo-listing.ts";
import { HubError } from "../../src/hub/hub-error.ts";
import { retryAfterMs, TransientError, withRetries } from "../../src/hub/retry.ts";

describe("progress formatting", () => {
  it("decimal units, both sides of have/size in the size's unit", () => {
    expect(formatBytes(999)).toBe("999 B");
    expect(formatBytes(12_345_678)).toBe("12.3 MB");
    expect(formatBytes(4_200_000_000)).toBe("4.2 GB");
    expect(formatProgress(12_300_000, 45_600_000)).toBe("12.3/45.6 MB");
    expect(formatProgress(500_000, 2_000_000_000)).toBe("0.0/2.0 GB");
    expect(formatRate(3_200_000)).toBe("3.2 MB/s");
    expect(formatRate(null)).toBe("- B/s");
    expect(formatSeconds(0.42)).toBe("0.4 s");
    expect(formatSeconds(10)).toBe("10 s");
    expect(formatSeconds(185)).toBe("3 min 5 s");
    expect(formatSeconds(7800)).toBe("2 h 10 min");
  });
});

describe("retries", () => {
  it("reads Retry-After in seconds or as a date, capped at a minute", () => {
    expect(retryAfterMs(null)).toBeNull();
    expect(retryAfterMs("3")).toBe(3000);
    expect(retryAfterMs("3600")).toBe(60_000);
    expect(retryAfterMs(new Date(10_000).toUTCString(), 5000)).toBe(5000);
    expect(retryAfterMs("soon")).toBeNull();
  });

  it("retries transient failures, gives up with a HubError, and lets other errors through at once", async () => {
    let calls = 0;
    const flaky = () => {
      calls++;
      return calls < 3 ? Promise.reject(new TransientError("HTTP 503")) : Promise.resolve("ok");
    };
    await expect(withRetries({ retries: 4, baseDelayMs: 1 }, "x", flaky)).resolves.toBe("ok");
    expect(calls).toBe(3);

    calls = 0;
    const always = () => {
      calls++;
      return Promise.reject(new TransientError("HTTP 503"));
    };
    const failed = withRetries({ retries: 2, baseDelayMs: 1 }, "listing o/n", always);
    await expect(failed).rejects.toThrow(HubError);
    await expect(failed).rejects.toThrow("listing o/n: HTTP 503; gave up after 3 tries");
    expect(calls).toBe(3);

    calls = 0;
    const broken = () => {
      calls++;
      return Promise.reject(new RangeError("a bug"));
    };
    await expect(withRetries({ retries: 4, baseDelayMs: 1 }, "x", broken)).rejects.toThrow(RangeError);
    expect(calls).toBe(1);
  });

  it("a try that made progress resets the count", async () => {
    let calls = 0;
    const resuming = () => {
      calls++;
      return calls < 6 ? Promise.reject(new TransientError("cut")) : Promise.resolve(calls);
    };
    await expect(withRetries({ retries: 1, baseDelayMs: 1 }, "x", resuming, () => true)).resolves.toBe(6);
  });
});

describe("the tree listing's Link header", () => {
  it("finds rel=next, absolute or relative", () => {
    expect(nextPage('<https://hub/api/models/o/n/tree/main?cursor=abc>; rel="next"', "https://hub/x")).toBe("https://hub/api/models/o/n/tree/main?cursor=abc");
    expect(nextPage('</api/p2>; rel="next", </api/p0>; rel="prev"', "https://hub/api/p1")).toBe("https://hub/api/p2");
    expect(nextPage('</api/p0>; rel="prev"', "https://hub/api/p1")).toBeNull();
    expect(nextPage(null, "https://hub/")).toBeNull();
  });
});

describe("the manifest", () => {
  const record = (over: Partial<PullRecord>): PullRecord => ({ commit: "c1", requested: "auto", device: "cpu", dtype: "q4", onnxFile: "onnx/model_q4.onnx", files: [], ...over });

  it("an earlier pull answers the same request, or a named dtype that auto chose", () => {
    const auto = record({});
    expect(answers(auto, "auto", "cpu")).toBe(true);
    expect(answers(auto, "auto", "cuda")).toBe(false);
    expect(answers(auto, "q4", "cuda")).toBe(true);
    expect(answers(auto, "q8", "cpu")).toBe(false);
  });

  it("keeps one record per request, and none from another commit", () => {
    const manifest: PullManifest = { repo: "o/n", revision: "main", endpoint: "e", files: {}, pulls: [record({ requested: "q8", dtype: "q8" }), record({ commit: "c0", requested: "fp16", dtype: "fp16" }), record({})] };
    const next = withPull(manifest, record({ onnxFile: "again" }));
    expect(next.pulls.map((p) => `${p.commit}:${p.requested}:${p.onnxFile}`)).toEqual(["c1:q8:onnx/model_q4.onnx", "c1:auto:again"]);
  });
});
