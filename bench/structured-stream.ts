/**
 * The constrained-stream section of `npm run bench` (issue 11, "Speed"), on
 * the 135M shape through its fastest file (a short forward step leaves the
 * mask the least room to hide in): two ratios, each from paired rounds
 * like the other ratio lines (paired-rounds.ts), the two sides back to back
 * and their order alternating:
 *
 * - a json_schema stream's decode tok/s over a free-text stream's, one at a
 *   time, the same prompt and the same number of tokens (target >= 0.9);
 * - free-text streams' decode tok/s when the fourth row of their batch is
 *   constrained, over the same with a free-text fourth row: "constrained
 *   rows must not slow unconstrained rows in the same batch".
 *
 * Runs alone too: npx tsx bench/structured-stream.ts [--quick] [--server-threads auto|N]
 */
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import type { ChatSpec } from "./chat-client.ts";
import { closeIdleConnections, type StreamTiming } from "./completion-client.ts";
import { availableDtypes } from "./dtype-table.ts";
import { loadBenchModel, REPO_ROOT } from "./models.ts";
import { othersCpu } from "./others-cpu.ts";
import { assertFullLength, scenarioMetrics } from "./scenario-metrics.ts";
import { ServerProcess } from "./server-process.ts";
import { percentile } from "./stats.ts";
import { runChats, streamKinds, type StreamKinds } from "./structured-requests.ts";
import { workloadFor, type Workload } from "./workload.ts";

const SMOLLM_SHAPE = "models/.cache/smollm2-135m-shape";
/** Fastest first: the file the section measures is the first the folder has. */
const DTYPE_PREFERENCE = ["q4", "q8", "fp32-fused", "fp32"] as const;
/** Free-text rows measured beside the one neighbour whose kind changes between the sides. */
const PROBES = 3;
/** Other processes' CPU (cores) during a side from which a round counts as disturbed, as in report.ts. */
const DISTURBED_CORES = 0.1;

interface Round {
  free: number;
  constrained: number;
  besideFree: number;
  besideConstrained: number;
  othersCpu: number | null;
}

export async function structuredStreamSection(
  quick: boolean,
  serverThreads: number | "auto",
  say: (line: string) => void,
  progress: (line: string) => void,
): Promise<void> {
  const dir = resolve(REPO_ROOT, SMOLLM_SHAPE);
  if (!existsSync(dir)) {
    say(`== constrained decoding, streams: skipped, ${SMOLLM_SHAPE} not found (see "The models" in bench/README.md)`);
    return;
  }
  const w = workloadFor(quick);
  const model = loadBenchModel(dir, w.promptLength);
  const present = availableDtypes(dir).present.map((p) => p.dtype);
  const dtype = DTYPE_PREFERENCE.find((d) => present.includes(d)) ?? "fp32";
  progress(`  constrained streams: starting the server on ${model.name} with --dtype ${dtype}...`);
  const server = await ServerProcess.start({ modelDir: dir, threads: serverThreads, maxBatchSize: 16, dtype });
  try {
    const kinds = streamKinds(server.baseUrl, model.name, w.maxTokens, model.eosIds);
    const run = (specs: ChatSpec[], concurrency: number, what: string): Promise<StreamTiming[]> =>
      runChats(specs, concurrency, w.scenarioTimeoutMs).catch((error: Error) => {
        throw new Error(`constrained streams, ${what}: ${error.message} (${server.describe()})`);
      });
    // Warm-up: lazy initialisation, and the trie a worker builds for its first constrained row.
    await run([kinds.free(), kinds.constrained(), kinds.free()], 1, "warm-up");
    const calibration = await run([kinds.free()], 1, "calibration");
    const perStream = (calibration[0].endMs - calibration[0].startMs) / 1000;
    // Sides of about pairedMs each, as the other paired rounds.
    const sequential = Math.max(2, Math.round(w.pairedMs / 1000 / perStream));
    const waves = Math.max(1, Math.round(sequential / 2));
    const rounds: Round[] = [];
    for (let r = 0; r < w.pairedRounds; r++) {
      const round = await oneRound(kinds, run, sequential, waves, w, [server.pid], r % 2 === 0);
      rounds.push(round);
      progress(
        `  constrained round ${r + 1}/${w.pairedRounds}: alone ${(round.constrained / round.free).toFixed(2)} ` +
          `(${round.constrained.toFixed(1)} vs ${round.free.toFixed(1)} tok/s), neighbour ${(round.besideConstrained / round.besideFree).toFixed(2)}; ` +
          `other processes' CPU ${round.othersCpu?.toFixed(2) ?? "unknown"} cores`,
      );
    }
    for (const line of report(rounds, model.name, dtype, sequential, waves, w)) say(line);
  } finally {
    await closeIdleConnections();
    await server.stop();
  }
}

async function oneRound(
  kinds: StreamKinds,
  run: (specs: ChatSpec[], concurrency: number, what: string) => Promise<StreamTiming[]>,
  sequential: number,
  waves: number,
  w: Workload,
  servers: number[],
  freeFirst: boolean,
): Promise<Round> {
  let most: number | null = 0;
  const side = async (what: string, specs: () => ChatSpec[], concurrency: number): Promise<StreamTiming[]> => {
    await closeIdleConnections();
    const end = othersCpu(servers);
    const timings = await run(specs(), concurrency, what);
    const load = end();
    most = load === null || most === null ? null : Math.max(most, load);
    assertFullLength(timings, w.maxTokens, `constrained streams, ${what}`);
    return timings;
  };
  const decode = (timings: StreamTiming[]): number => scenarioMetrics({ timings, wallMs: 1 }).streamDecodeTokensPerSec;
  const repeat = (n: number, make: () => ChatSpec[]): ChatSpec[] => Array.from({ length: n }, make).flat();

  const alone = {
    free: () => side("free text", () => repeat(sequential, () => [kinds.free()]), 1),
    constrained: () => side("json_schema", () => repeat(sequential, () => [kinds.constrained()]), 1),
  };
  // One wave: the probes and the neighbour start together, so all four share every step; waves run one after another.
  const wave = (neighbour: () => ChatSpec) => (): ChatSpec[] => [...Array.from({ length: PROBES }, kinds.free), neighbour()];
  const probes = (timings: StreamTiming[]): StreamTiming[] => timings.filter((_, i) => i % (PROBES + 1) < PROBES);
  const beside = {
    free: async () => decode(probes(await waveSide("beside free text", wave(kinds.free)))),
    constrained: async () => decode(probes(await waveSide("beside json_schema", wave(kinds.constrained)))),
  };
  async function waveSide(what: string, make: () => ChatSpec[]): Promise<StreamTiming[]> {
    const all: StreamTiming[] = [];
    for (let i = 0; i < waves; i++) all.push(...(await side(what, make, PROBES + 1)));
    return all;
  }

  const order = freeFirst ? (["free", "constrained"] as const) : (["constrained", "free"] as const);
  const rates = { free: 0, constrained: 0, besideFree: 0, besideConstrained: 0 };
  for (const kind of order) rates[kind] = decode(await alone[kind]());
  for (const kind of order) rates[kind === "free" ? "besideFree" : "besideConstrained"] = await beside[kind]();
  return { ...rates, othersCpu: most };
}

function report(rounds: Round[], name: string, dtype: string, sequential: number, waves: number, w: Workload): string[] {
  const disturbed = (x: Round): boolean => x.othersCpu !== null && x.othersCpu >= DISTURBED_CORES;
  const summary = (num: (x: Round) => number, den: (x: Round) => number): { median: number; text: string } => {
    const values = rounds.map((x) => num(x) / den(x));
    const text = values.map((v, i) => `${v.toFixed(2)}${disturbed(rounds[i]) ? "*" : ""}`).join(" ");
    return { median: percentile(values, 50), text: `median of ${values.length} paired rounds: ${text}` };
  };
  const med = (f: (x: Round) => number): string => percentile(rounds.map(f), 50).toFixed(1);
  const alone = summary((x) => x.constrained, (x) => x.free);
  const beside = summary((x) => x.besideConstrained, (x) => x.besideFree);
  const others = rounds.map((x) => (x.othersCpu === null ? "?" : x.othersCpu.toFixed(2)));
  return [
    `== constrained decoding on ${name} (--dtype ${dtype}): chat streams, max_tokens ${w.maxTokens}, every stream exactly ${w.maxTokens} completion tokens`,
    `   json_schema stream / free-text stream, c=1 = ${alone.median.toFixed(2)} (target >= 0.9) ${alone.median >= 0.9 ? "ok" : "BELOW TARGET"}` +
      `  [${alone.text}; decode ${med((x) => x.constrained)} vs ${med((x) => x.free)} tok/s, medians; ${sequential} streams per side; ` +
      `a new schema per request: an empty mask cache each time]`,
    `   free-text rows beside a json_schema row / beside a free-text row = ${beside.median.toFixed(2)} (1.00: the constrained row costs them nothing)` +
      `  [${beside.text}; ${PROBES} free-text streams + 1 neighbour at once, the ${PROBES}' decode ${med((x) => x.besideConstrained)} vs ` +
      `${med((x) => x.besideFree)} tok/s, medians; ${waves} wave(s) per side]`,
    `   * = other processes took >= ${DISTURBED_CORES} of a core during one of the round's sides; the most per round: ${others.join(" ")} cores`,
  ];
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { values } = parseArgs({ options: { quick: { type: "boolean" }, "server-threads": { type: "string" } }, strict: true });
  const given = values["server-threads"] ?? "auto";
  const threads = given === "auto" ? "auto" : Number(given);
  structuredStreamSection(values.quick === true, threads, (l) => void process.stdout.write(`${l}\n`), (l) => void process.stderr.write(`${l}\n`)).catch(
    (error: Error) => {
      process.stderr.write(`bench failed: ${error.stack ?? error.message}\n`);
      process.exit(1);
    },
  );
}
