/**
 * Where one decode step's time goes: ONNX Runtime's own profiler over a
 * batch-1 greedy loop on one model file, summed by operator type.
 *
 *   npm run bench:profile -- --model DIR [--dtype fp32|fp32-fused|q8|q4] [--batch N] [--steps N] [--threads N]
 *
 * The raw loop (raw-session.ts) runs the model; profiling is switched on
 * only for the timed decode steps' session, so prefill and warm-up are
 * excluded by dropping every run before the first timed one. Prints each
 * operator type's share of kernel time, its calls per step and mean time
 * per call, and the step time the profiler saw against kernel time (the
 * gap is the executor's own work: allocation, thread-pool hand-offs).
 */
import { readdirSync, readFileSync, rmSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { basename, join } from "node:path";
import { parseArgs } from "node:util";
import * as ort from "onnxruntime-node";
import { MODEL_DTYPES } from "../src/config.ts";
import { loadModelFolder } from "../src/model/model-folder.ts";
import { loadBenchModel } from "./models.ts";
import { RawSession } from "./raw-session.ts";

interface ProfileEvent {
  cat: string;
  name: string;
  dur: number;
  ts: number;
  args?: { op_name?: string };
}

const { values } = parseArgs({
  options: {
    model: { type: "string", default: "models/.cache/smollm2-135m-shape" },
    dtype: { type: "string", default: "fp32" },
    batch: { type: "string", default: "1" },
    steps: { type: "string", default: "32" },
    threads: { type: "string", default: String(availableParallelism()) },
  },
});
const dtype = MODEL_DTYPES.find((d) => d === values.dtype);
if (dtype === undefined) throw new Error(`--dtype: expected ${MODEL_DTYPES.join(", ")}`);
const batch = Number(values.batch);
const steps = Number(values.steps);
const threads = Number(values.threads);

const folder = loadModelFolder(values.model!, dtype);
const model = { ...loadBenchModel(values.model!, 32), onnxPath: folder.onnxPath };
const prefix = join(tmpdir(), `ort-profile-${process.pid}`);
const session = await RawSession.open(model, threads, { enableProfiling: true, profileFilePrefix: prefix });

const ids = Array.from({ length: batch * model.promptIds.length }, (_, i) => model.promptIds[i % model.promptIds.length]);
let step = await session.run(session.feeds(batch, ids, 0, null));
let past = model.promptIds.length;
const next = (): number[] => Array.from({ length: batch }, () => model.promptIds[0]);
for (let i = 0; i < 4; i++) step = await session.run(session.feeds(batch, next(), past++, step.cache));
const timedFrom = performance.now();
for (let i = 0; i < steps; i++) step = await session.run(session.feeds(batch, next(), past++, step.cache));
const wallPerStep = (performance.now() - timedFrom) / steps;
session.endProfiling();
await session.release();
// onnxruntime-node does not return the file's name: ONNX Runtime appends a timestamp to the prefix.
const written = readdirSync(tmpdir()).filter((f) => f.startsWith(basename(prefix)) && f.endsWith(".json"));
if (written.length !== 1) throw new Error(`expected one profile file ${prefix}_*.json, found ${written.length}`);
const file = join(tmpdir(), written[0]);

const events = JSON.parse(readFileSync(file, "utf8")) as ProfileEvent[];
if (process.env.KEEP_PROFILE) console.log(file); else rmSync(file, { force: true });
const runs = events.filter((e) => e.cat === "Session" && e.name === "model_run");
const timed = runs.slice(-steps);
const start = timed[0].ts;
const kernels = events.filter((e) => e.cat === "Node" && e.name.endsWith("_kernel_time") && e.ts >= start);
const byOp = new Map<string, { us: number; calls: number }>();
for (const k of kernels) {
  const op = k.args?.op_name ?? "?";
  const entry = byOp.get(op) ?? { us: 0, calls: 0 };
  entry.us += k.dur;
  entry.calls += 1;
  byOp.set(op, entry);
}
const kernelUs = kernels.reduce((s, k) => s + k.dur, 0);
const runUs = timed.reduce((s, r) => s + r.dur, 0);
console.log(`${folder.onnxPath}: batch ${batch}, ${steps} decode steps, ${threads} threads, onnxruntime-node ${ort.env.versions.common}`);
console.log(`wall ${wallPerStep.toFixed(2)} ms/step; profiler: model_run ${(runUs / steps / 1000).toFixed(2)} ms/step, kernels ${(kernelUs / steps / 1000).toFixed(2)} ms/step, ${(kernels.length / steps).toFixed(0)} kernel calls/step`);
console.log("op type                          share  calls/step  us/call  ms/step");
for (const [op, { us, calls }] of [...byOp].sort((a, b) => b[1].us - a[1].us)) {
  console.log(
    `${op.padEnd(32)} ${((100 * us) / kernelUs).toFixed(1).padStart(5)}%  ${(calls / steps).toFixed(0).padStart(10)}  ${(us / calls).toFixed(1).padStart(7)}  ${(us / steps / 1000).toFixed(2).padStart(7)}`,
  );
}
