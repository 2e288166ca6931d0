/**
 * The ratio lines, measured as paired rounds. This machine's speed drifts by
 * tens of percent within a minute, more than the margins the targets are
 * about, so a ratio of two measurements taken half a minute apart says as
 * much about the drift as about the server. Each round instead measures the
 * two sides of every ratio back to back and the report gives the median of
 * the rounds' ratios and every round's. The two sides of a pair do the same
 * work: the server side's request count is scaled to about two seconds at
 * the raw loop's rate, and the raw loop runs one run per request (batch 16:
 * one run per wave of 16 requests), so neither side's window is longer and
 * more exposed to another process's burst. transformers.js, much slower on
 * small models, runs as many runs as fill two seconds at its warm-up speed.
 * The order alternates (raw first, then server first) so that a steady
 * drift does not favour one side; at batch 1 the c=1 streams sit between
 * the raw loop and transformers.js (raw, server, transformers.js; then the
 * reverse), so both of their ratios are back to back.
 */
import { closeIdleConnections } from "./completion-client.ts";
import { closedLoop } from "./load-runners.ts";
import type { BenchModel } from "./models.ts";
import { othersCpu as othersCpuWindow } from "./others-cpu.ts";
import { pooledRates, type PooledRates, type TimedRun } from "./pooled-rates.ts";
import { runRawLoop } from "./raw-loop.ts";
import { RawSession } from "./raw-session.ts";
import { assertFullLength, scenarioMetrics, type ScenarioMetrics } from "./scenario-metrics.ts";
import type { ServerProcess } from "./server-process.ts";
import { baseSpec, type Log } from "./server-scenarios.ts";
import { percentile } from "./stats.ts";
import { TransformersJs } from "./transformers-js.ts";
import type { Workload } from "./workload.ts";

/** One ratio over the rounds. */
export interface PairedRatio {
  /** Each round's ratio, in round order. */
  rounds: number[];
  median: number;
}

export interface PairedRatios {
  /** c=1 stream decode rate / raw batch-1 decode rate. */
  stream1: PairedRatio;
  /** c=16 aggregate / raw batch-16 end-to-end rate. */
  c16VsRaw: PairedRatio;
  /** c=16 aggregate / the same load against --max-batch-size 1. */
  c16VsSerial: PairedRatio;
  /** c=1 stream decode rate / transformers.js pipeline decode rate. */
  stream1VsPipeline: PairedRatio;
  /** Each round's batch-1 decode rates, tok/s. */
  batch1: { raw: number[]; stream: number[]; pipeline: number[] };
  /** How the prompt reached transformers.js (TransformersJs.input). */
  pipelineInput: string;
  /** Per round, the most CPU other processes took during one of its sides, in cores (null: unknown). */
  othersCpu: Array<number | null>;
}

interface Rates {
  raw1Decode: number;
  pipelineDecode: number;
  raw16EndToEnd: number;
  stream1Decode: number;
  c16: number;
  serial: number;
  othersCpu: number | null;
}

export async function pairedRounds(
  model: BenchModel,
  w: Workload,
  threads: number,
  batching: ServerProcess,
  serial: ServerProcess,
  log: Log,
): Promise<PairedRatios> {
  const session = await RawSession.open(model, threads);
  let competitor: TransformersJs | null = null;
  try {
    competitor = await TransformersJs.open(model, threads);
    await runRawLoop(session, 1, model.promptIds, 4);
    const pipeline = { competitor, runs: await competitor.warmUp(w.maxTokens, w.pairedMs) };
    const rounds: Rates[] = [];
    for (let r = 0; r < w.pairedRounds; r++) {
      const rates = await oneRound(session, pipeline, model, w, batching, serial, r % 2 === 0);
      rounds.push(rates);
      log(
        `  paired round ${r + 1}/${w.pairedRounds}: stream ${ratio(rates.stream1Decode, rates.raw1Decode).toFixed(2)} ` +
          `(${rates.stream1Decode.toFixed(1)} vs ${rates.raw1Decode.toFixed(1)} tok/s), ` +
          `stream/transformers.js ${ratio(rates.stream1Decode, rates.pipelineDecode).toFixed(2)} (${rates.pipelineDecode.toFixed(1)} tok/s), ` +
          `c=16/raw ${ratio(rates.c16, rates.raw16EndToEnd).toFixed(2)}, c=16/one-at-a-time ${ratio(rates.c16, rates.serial).toFixed(2)}; ` +
          `other processes' CPU ${rates.othersCpu?.toFixed(2) ?? "unknown"} cores`,
      );
    }
    const summarise = (num: (x: Rates) => number, den: (x: Rates) => number): PairedRatio => {
      const values = rounds.map((x) => ratio(num(x), den(x)));
      return { rounds: values, median: percentile(values, 50) };
    };
    return {
      stream1: summarise((x) => x.stream1Decode, (x) => x.raw1Decode),
      c16VsRaw: summarise((x) => x.c16, (x) => x.raw16EndToEnd),
      c16VsSerial: summarise((x) => x.c16, (x) => x.serial),
      stream1VsPipeline: summarise((x) => x.stream1Decode, (x) => x.pipelineDecode),
      batch1: { raw: rounds.map((x) => x.raw1Decode), stream: rounds.map((x) => x.stream1Decode), pipeline: rounds.map((x) => x.pipelineDecode) },
      pipelineInput: competitor.input,
      othersCpu: rounds.map((x) => x.othersCpu),
    };
  } finally {
    await competitor?.dispose();
    await session.release();
  }
}

async function oneRound(
  session: RawSession,
  pipeline: { competitor: TransformersJs; runs: number },
  model: BenchModel,
  w: Workload,
  batching: ServerProcess,
  serial: ServerProcess,
  rawFirst: boolean,
): Promise<Rates> {
  // The most CPU that other processes took during any one side of this round, in cores.
  let othersCpu: number | null = 0;
  const side = async <T>(measure: () => Promise<T>): Promise<T> => {
    const end = othersCpuWindow([batching.pid, serial.pid]);
    const value = await measure();
    const load = end();
    othersCpu = load === null || othersCpu === null ? null : Math.max(othersCpu, load);
    return value;
  };
  const inProcess = (once: () => Promise<TimedRun>, rows: number, runs: number): Promise<PooledRates> =>
    side(() => pooledRates(once, rows, w.maxTokens, runs));
  const served = (name: string, count: number, concurrency: number, server = batching): Promise<ScenarioMetrics> =>
    side(async () => {
      // Each server sits idle for seconds between its measurements, about its keep-alive timeout.
      await closeIdleConnections();
      const spec = baseSpec(server, model, w.maxTokens);
      const run = await closedLoop(count, concurrency, w.scenarioTimeoutMs, () => spec).catch((error: Error) => {
        throw new Error(`paired ${name}: ${error.message} (${server.describe()})`);
      });
      assertFullLength(run.timings, w.maxTokens, `paired ${name}`);
      // No connection stays open into the next side, which may run in this process.
      await closeIdleConnections();
      return scenarioMetrics(run);
    });
  const pair = async <A, B>(raw: () => Promise<A>, server: () => Promise<B>): Promise<[A, B]> => {
    if (rawFirst) {
      const a = await raw();
      return [a, await server()];
    }
    const b = await server();
    return [await raw(), b];
  };
  const batch1 = {
    raw: async () => (await inProcess(() => runRawLoop(session, 1, model.promptIds, w.maxTokens), 1, w.pairedSequentialRequests)).decode,
    stream: async () => (await served("c=1", w.pairedSequentialRequests, 1)).streamDecodeTokensPerSec,
    pipeline: async () => (await inProcess(() => pipeline.competitor.generate(w.maxTokens), 1, pipeline.runs)).decode,
  };
  const decode = { raw: 0, stream: 0, pipeline: 0 };
  for (const name of rawFirst ? (["raw", "stream", "pipeline"] as const) : (["pipeline", "stream", "raw"] as const)) {
    decode[name] = await batch1[name]();
  }
  const [raw16, c16] = await pair(
    () => inProcess(() => runRawLoop(session, 16, model.promptIds, w.maxTokens), 16, w.pairedC16Requests / 16),
    () => served("c=16", w.pairedC16Requests, 16),
  );
  const one = await served("one-at-a-time", w.pairedOneAtATimeRequests, 16, serial);
  return {
    raw1Decode: decode.raw,
    pipelineDecode: decode.pipeline,
    raw16EndToEnd: raw16.endToEnd,
    stream1Decode: decode.stream,
    c16: c16.tokensPerSec,
    serial: one.tokensPerSec,
    othersCpu,
  };
}

function ratio(a: number, b: number): number {
  return b > 0 ? a / b : Number.NaN;
}
