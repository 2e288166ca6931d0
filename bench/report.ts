/** The printed result of one model: raw-loop lines, a scenario table, and the ratio lines against their targets. */
import { formatDtypeTable } from "./dtype-report.ts";
import type { ModelResult } from "./model-bench.ts";
import type { PairedRatio } from "./paired-rounds.ts";
import type { ScenarioRow } from "./server-scenarios.ts";
import { percentile, type Percentiles } from "./stats.ts";
import type { Workload } from "./workload.ts";

const f1 = (n: number): string => (Number.isFinite(n) ? n.toFixed(1) : "-");
const pair = (p: Percentiles): string => `${f1(p.p50)} / ${f1(p.p99)}`;
const mib = (kib: number | null): string => (kib === null ? "-" : (kib / 1024).toFixed(1));
const verdict = (ok: boolean): string => (ok ? "ok" : "BELOW TARGET");
/** Other processes' CPU (cores) during a side from which a round counts as disturbed. */
const DISTURBED_CORES = 0.1;
const disturbed = (load: number | null): boolean => load !== null && load >= DISTURBED_CORES;
const roundsOf = (others: Array<number | null>) => (r: PairedRatio): string =>
  `median of ${r.rounds.length} paired rounds: ${r.rounds.map((x, i) => `${x.toFixed(2)}${disturbed(others[i]) ? "*" : ""}`).join(" ")}`;

const COLUMNS: Array<[string, number, (r: ScenarioRow) => string]> = [
  ["scenario", 26, (r) => r.name],
  ["reqs", 5, (r) => String(r.metrics.requests)],
  ["wall s", 7, (r) => (r.metrics.wallMs / 1000).toFixed(2)],
  ["tok/s", 8, (r) => f1(r.metrics.tokensPerSec)],
  ["TTFT p50/p99 ms", 17, (r) => pair(r.metrics.ttftMs)],
  ["ITL p50/p99 ms", 15, (r) => pair(r.metrics.itlMs)],
  ["E2E p50/p99 ms", 17, (r) => pair(r.metrics.e2eMs)],
  ["peak MiB", 9, (r) => mib(r.peakKiB)],
  ["RSS MiB", 8, (r) => mib(r.rssAfterKiB)],
];

function table(rows: ScenarioRow[]): string[] {
  const line = (cells: string[]): string => cells.map((c, i) => (i === 0 ? c.padEnd(COLUMNS[i][1]) : c.padStart(COLUMNS[i][1]))).join("  ");
  return [line(COLUMNS.map(([h]) => h)), ...rows.map((r) => line(COLUMNS.map(([, , cell]) => cell(r))))];
}

export function formatModelReport(result: ModelResult, workload: Workload, threads: number, serverThreads: number | "auto"): string {
  const { model, batching: b, oneAtATime } = result;
  return [
    `== ${model.name} (${model.dir})`,
    `   prompt ${workload.promptLength} token ids, max_tokens ${workload.maxTokens} (EOS ${model.eosIds.join(",")} biased -100), ` +
      `raw loop threads ${threads}, server --threads ${serverThreads}, server boot ${(result.bootMs / 1000).toFixed(1)} s`,
    ...inProcessLines(result, workload, threads),
    "",
    ...table([b.c1, b.c4, b.c16, b.poisson, oneAtATime]).map((l) => `   ${l}`),
    `   peak = VmHWM of the server process ${b.peakPerScenario ? "during each scenario" : "since it started (clear_refs refused)"}; ` +
      `RSS = VmRSS after it; Poisson rate = ${workload.poissonLoad} x c=16 throughput`,
    "",
    ...ratioLines(result),
    ...cancelLines(result),
    ...(result.dtypes ? ["", ...formatDtypeTable(result.dtypes)] : []),
  ].join("\n");
}

const median = (values: number[]): number => percentile(values, 50);

/** The raw loop's passes, and transformers.js's rate in the paired rounds beside the raw loop's there. */
function inProcessLines({ raw, rawPasses, paired }: ModelResult, workload: Workload, threads: number): string[] {
  const out = raw.map((r) => {
    const passes = rawPasses.map((pass) => f1(pass.find((p) => p.batch === r.batch)!.decodeTokensPerSec)).join(" / ");
    return (
      `   raw loop batch ${String(r.batch).padStart(2)}: prefill ${r.batch}x${r.promptLength} tok ${f1(r.prefillMs)} ms; ` +
      `decode ${r.batch}x${r.tokensPerRow - 1} tok in ${f1(r.decodeMs)} ms = ${f1(r.decodeTokensPerSec)} tok/s; ` +
      `end to end ${f1(r.endToEndTokensPerSec)} tok/s (${r.runs} runs; decode before / after the server: ${passes} tok/s)`
    );
  });
  const { batch1 } = paired;
  out.push(
    `   transformers.js batch  1: decode 1x${workload.maxTokens - 1} tok = ${f1(median(batch1.pipeline))} tok/s, the median of its ` +
      `${batch1.pipeline.length} paired-round sides (${batch1.pipeline.map(f1).join(" ")}); the raw batch-1 loop's in the same rounds: ` +
      `${f1(median(batch1.raw))} tok/s [${paired.pipelineInput}, text-generation pipeline, greedy, EOS suppressed, ${threads} intra-op threads]`,
  );
  return out;
}

/** The verdicts use the paired rounds; the whole scenarios against the raw passes' mean follow for reference. */
function ratioLines({ raw, batching: b, oneAtATime, paired }: ModelResult): string[] {
  const raw1 = raw.find((r) => r.batch === 1)!;
  const raw16 = raw.find((r) => r.batch === 16)!;
  const streamRatio = b.c1.metrics.streamDecodeTokensPerSec / raw1.decodeTokensPerSec;
  // Like for like: the c=16 aggregate includes each request's prefill, so it is
  // compared with the raw loop's end-to-end rate for the same requests.
  const rawRatio = b.c16.metrics.tokensPerSec / raw16.endToEndTokensPerSec;
  const rawDecodeRatio = b.c16.metrics.tokensPerSec / raw16.decodeTokensPerSec;
  const serialRatio = b.c16.metrics.tokensPerSec / oneAtATime.metrics.tokensPerSec;
  const { stream1, c16VsRaw, c16VsSerial, stream1VsPipeline, batch1 } = paired;
  const rounds = roundsOf(paired.othersCpu);
  const others = paired.othersCpu.map((x) => (x === null ? "?" : x.toFixed(2)));
  return [
    `   batch-1 streaming over HTTP / raw batch-1 loop = ${stream1.median.toFixed(2)} (target >= 0.97) ${verdict(stream1.median >= 0.97)}` +
      `  [${rounds(stream1)}; whole c=1 scenario ${f1(b.c1.metrics.streamDecodeTokensPerSec)} vs raw ${f1(raw1.decodeTokensPerSec)} tok/s ` +
      `= ${streamRatio.toFixed(2)}]`,
    `   batch-1 streaming over HTTP / transformers.js pipeline = ${stream1VsPipeline.median.toFixed(2)} (target >= 1.1) ` +
      `${verdict(stream1VsPipeline.median >= 1.1)}  [${rounds(stream1VsPipeline)}; c=1 streams ${f1(median(batch1.stream))} vs ` +
      `transformers.js ${f1(median(batch1.pipeline))} tok/s, medians of the rounds]`,
    `   c=16 aggregate / raw batch-16 loop = ${c16VsRaw.median.toFixed(2)} (target >= 0.80) ${verdict(c16VsRaw.median >= 0.8)}` +
      `  [${rounds(c16VsRaw)}; whole c=16 scenario ${f1(b.c16.metrics.tokensPerSec)} vs ${f1(raw16.endToEndTokensPerSec)} tok/s ` +
      `end to end = ${rawRatio.toFixed(2)}, ${rawDecodeRatio.toFixed(2)} of its decode-only ${f1(raw16.decodeTokensPerSec)} tok/s]`,
    `   c=16 aggregate / one-at-a-time = ${c16VsSerial.median.toFixed(2)} (target >= 4) ${verdict(c16VsSerial.median >= 4)}` +
      `  [${rounds(c16VsSerial)}; whole scenarios ${f1(b.c16.metrics.tokensPerSec)} vs ${f1(oneAtATime.metrics.tokensPerSec)} tok/s ` +
      `= ${serialRatio.toFixed(2)}]`,
    `   * = other processes took >= ${DISTURBED_CORES} of a core during one of the round's sides; the most per round: ${others.join(" ")} cores ` +
      `(${paired.othersCpu.filter(disturbed).length} of ${others.length} rounds disturbed)`,
  ];
}

function cancelLines({ batching: b }: ModelResult): string[] {
  const f2 = (n: number): string => (Number.isFinite(n) ? n.toFixed(2) : "-");
  const cancelSteps = b.release.p99Steps;
  return [
    `   cancel p99 = ${cancelSteps.toFixed(2)} steps = ${f2(b.release.p99Ms)} ms (target <= 1 step) ${verdict(cancelSteps <= 1)}` +
      `  [server: release sent -> row out of its batch, p50 ${f2(b.release.p50Steps)} steps / ${f2(b.release.p50Ms)} ms, ` +
      `${b.cancel.cancelled}/${b.cancel.attempted} cancelled]`,
    `   cancel as the client sees it: cancel sent -> final chunk p50/p99 ${pair(b.cancel.latencyMs)} ms; ` +
      `cancel call round trip ${pair(b.cancel.roundTripMs)} ms; c=16 ITL p50 ${f1(b.c16.metrics.itlMs.p50)} ms`,
  ];
}
