/**
 * The dtype table: the server on each model file the optimizer writes
 * (--dtype fp32, fp32-fused, q8, q4; those the folder has), each against
 * the raw fp32 loop on the plain graph, in paired rounds like the ratio
 * lines (paired-rounds.ts). Three measurements per dtype and round:
 *
 * - batch-1 decode: c=1 streams' decode rate / the raw batch-1 decode rate;
 * - prefill of a long prompt: the raw loop's prefill time / the server's
 *   time from request to the final chunk of a max_tokens 1 stream (HTTP,
 *   tokenizing nothing: the prompt is ids);
 * - 16-way aggregate: c=16 completion tokens per second / the raw batch-16
 *   loop's end-to-end rate (prefill included on both sides).
 *
 * Every server is up for the whole table so each round can measure all of
 * them back to back with the raw loop; the order is reversed every other
 * round so a steady drift favours no dtype. Both sides of a pair do the
 * same work (same requests, same tokens). Then, apart from the timing, the
 * KL divergence of each file's logits from the plain fp32 graph's over one
 * teacher-forced prefill.
 */
import { FILE_DTYPES, type FileDtype } from "../src/model/dtype-files.ts";
import { loadModelFolder } from "../src/model/model-folder.ts";
import { closeIdleConnections } from "./completion-client.ts";
import { closedLoop } from "./load-runners.ts";
import { divergence, prefillLogits, type Divergence } from "./logit-divergence.ts";
import { loadBenchModel, type BenchModel } from "./models.ts";
import type { PairedRatio } from "./paired-rounds.ts";
import { pooledRates } from "./pooled-rates.ts";
import { runRawLoop } from "./raw-loop.ts";
import { RawSession } from "./raw-session.ts";
import { assertFullLength, scenarioMetrics } from "./scenario-metrics.ts";
import { ServerProcess } from "./server-process.ts";
import { baseSpec, warmUp, type Log } from "./server-scenarios.ts";
import { percentile, sum } from "./stats.ts";
import type { Workload } from "./workload.ts";

/** Prompt of the prefill column, and the positions the KL divergence is taken over (fewer where the context is shorter). */
export const LONG_PROMPT = 512;

const TABLE_DTYPES: readonly FileDtype[] = ["fp32", "fp32-fused", "q8", "q4"];

export interface DtypeRow {
  dtype: FileDtype;
  file: string;
  decode: PairedRatio;
  prefill: PairedRatio;
  c16: PairedRatio;
  /** Medians over the rounds: c=1 decode tok/s, prefill ms, c=16 tok/s. */
  decodeTokPerSec: number;
  prefillMs: number;
  c16TokPerSec: number;
  /** Null for the plain fp32 file, the reference. */
  divergence: Divergence | null;
}

export interface DtypeTable {
  rows: DtypeRow[];
  /** Medians over the rounds of the raw fp32 loop: batch-1 decode tok/s, prefill ms, batch-16 end-to-end tok/s. */
  raw: { decodeTokPerSec: number; prefillMs: number; c16TokPerSec: number };
  rounds: number;
  /** Tokens of the prefill prompt: LONG_PROMPT, or the context length less one token to generate. */
  longPrompt: number;
  /** Dtypes the folder has no file for. */
  missing: FileDtype[];
}

interface RoundRates {
  decode: number;
  prefillMs: number;
  c16: number;
}

/** The folder's file for each dtype it has; null when it has only the plain fp32 graph (nothing to compare). */
export function availableDtypes(dir: string): { present: Array<{ dtype: FileDtype; onnxPath: string }>; missing: FileDtype[] } {
  const present: Array<{ dtype: FileDtype; onnxPath: string }> = [];
  const missing: FileDtype[] = [];
  // The four files the optimizer and the plain export give; other Hub dtypes are not part of the table.
  for (const dtype of FILE_DTYPES.filter((d) => TABLE_DTYPES.includes(d))) {
    try {
      present.push({ dtype, onnxPath: loadModelFolder(dir, dtype).onnxPath });
    } catch {
      missing.push(dtype);
    }
  }
  return { present, missing };
}

export async function dtypeTable(
  model: BenchModel,
  w: Workload,
  threads: number,
  serverThreads: number | "auto",
  log: Log,
): Promise<DtypeTable> {
  const { present, missing } = availableDtypes(model.dir);
  const long = loadBenchModel(model.dir, Math.min(LONG_PROMPT, model.contextLength - 1)).promptIds;
  const servers: ServerProcess[] = [];
  const session = await RawSession.open(model, threads);
  const perDtype = present.map((): RoundRates[] => []);
  const raw: RoundRates[] = [];
  try {
    for (const { dtype } of present) {
      log(`  dtype table: starting the server with --dtype ${dtype}...`);
      const server = await ServerProcess.start({ modelDir: model.dir, threads: serverThreads, maxBatchSize: 16, dtype });
      servers.push(server);
      await warmUp(server, model, w);
    }
    await runRawLoop(session, 1, long, 1);
    // Prefill requests per side: about pairedMs of the raw loop's prefill, at least one.
    const rawPrefillMs = (await runRawLoop(session, 1, long, 1)).prefillMs;
    const prefillRuns = Math.max(1, Math.round(w.pairedMs / 2 / rawPrefillMs));
    for (let r = 0; r < w.pairedRounds; r++) {
      const order = present.map((_, i) => i);
      if (r % 2 === 1) order.reverse();
      const rawFirst = r % 2 === 0;
      const rawSide = {
        decode: async () => (await pooledRates(() => runRawLoop(session, 1, model.promptIds, w.maxTokens), 1, w.maxTokens, w.pairedSequentialRequests)).decode,
        prefill: async () => {
          let ms = 0;
          for (let i = 0; i < prefillRuns; i++) ms += (await runRawLoop(session, 1, long, 1)).prefillMs;
          return ms / prefillRuns;
        },
        c16: async () =>
          (await pooledRates(() => runRawLoop(session, 16, model.promptIds, w.maxTokens), 16, w.maxTokens, w.pairedC16Requests / 16)).endToEnd,
      };
      const rates: RoundRates = { decode: 0, prefillMs: 0, c16: 0 };
      const served: RoundRates[] = present.map(() => ({ decode: 0, prefillMs: 0, c16: 0 }));
      for (const kind of ["decode", "prefill", "c16"] as const) {
        if (rawFirst) rates[kind === "prefill" ? "prefillMs" : kind] = await rawSide[kind]();
        for (const i of order) {
          const value = await serverSide(kind, servers[i], model, long, prefillRuns, w);
          served[i][kind === "prefill" ? "prefillMs" : kind] = value;
        }
        if (!rawFirst) rates[kind === "prefill" ? "prefillMs" : kind] = await rawSide[kind]();
      }
      raw.push(rates);
      served.forEach((s, i) => perDtype[i].push(s));
      log(
        `  dtype round ${r + 1}/${w.pairedRounds}: raw fp32 ${rates.decode.toFixed(1)} tok/s, ` +
          present.map(({ dtype }, i) => `${dtype} ${(served[i].decode / rates.decode).toFixed(2)}x`).join(", "),
      );
    }
  } finally {
    await session.release();
    for (const server of servers) await server.stop();
  }

  log("  dtype table: KL divergence of each file's logits from the plain fp32 graph's...");
  const reference = await prefillLogits(model, present.find((p) => p.dtype === "fp32")?.onnxPath ?? model.onnxPath, long, threads);
  const rows: DtypeRow[] = [];
  for (const [i, { dtype, onnxPath }] of present.entries()) {
    const other = dtype === "fp32" ? null : await prefillLogits(model, onnxPath, long, threads);
    const ratioOf = (num: (x: RoundRates) => number, den: (x: RoundRates) => number): PairedRatio => {
      const rounds = perDtype[i].map((x, r) => num(x) / den(raw[r]));
      return { rounds, median: percentile(rounds, 50) };
    };
    rows.push({
      dtype,
      file: onnxPath.slice(model.dir.length + 1),
      decode: ratioOf((x) => x.decode, (x) => x.decode),
      // A speed ratio: the raw loop's time over the server's.
      prefill: ratioOf((x) => 1 / x.prefillMs, (x) => 1 / x.prefillMs),
      c16: ratioOf((x) => x.c16, (x) => x.c16),
      decodeTokPerSec: percentile(perDtype[i].map((x) => x.decode), 50),
      prefillMs: percentile(perDtype[i].map((x) => x.prefillMs), 50),
      c16TokPerSec: percentile(perDtype[i].map((x) => x.c16), 50),
      divergence: other === null ? null : divergence(reference.data, other.data, reference.vocab),
    });
  }
  return {
    rows,
    raw: {
      decodeTokPerSec: percentile(raw.map((x) => x.decode), 50),
      prefillMs: percentile(raw.map((x) => x.prefillMs), 50),
      c16TokPerSec: percentile(raw.map((x) => x.c16), 50),
    },
    rounds: w.pairedRounds,
    longPrompt: long.length,
    missing,
  };
}

/** One server side of a pair: c=1 decode tok/s, mean prefill ms, or c=16 tok/s. */
async function serverSide(
  kind: "decode" | "prefill" | "c16",
  server: ServerProcess,
  model: BenchModel,
  long: number[],
  prefillRuns: number,
  w: Workload,
): Promise<number> {
  await closeIdleConnections();
  try {
    if (kind === "prefill") {
      const spec = { ...baseSpec(server, model, 1), promptIds: long };
      const run = await closedLoop(prefillRuns, 1, w.scenarioTimeoutMs, () => spec);
      assertFullLength(run.timings, 1, "dtype table prefill");
      return sum(run.timings.map((t) => (t.finishMs ?? t.endMs) - t.startMs)) / run.timings.length;
    }
    const [count, concurrency] = kind === "decode" ? [w.pairedSequentialRequests, 1] : [w.pairedC16Requests, 16];
    const run = await closedLoop(count, concurrency, w.scenarioTimeoutMs, () => baseSpec(server, model, w.maxTokens));
    assertFullLength(run.timings, w.maxTokens, `dtype table ${kind}`);
    const metrics = scenarioMetrics(run);
    return kind === "decode" ? metrics.streamDecodeTokensPerSec : metrics.tokensPerSec;
  } catch (error) {
    throw new Error(`dtype table ${kind}: ${(error as Error).message} (${server.describe()})`);
  } finally {
    await closeIdleConnections();
  }
}
