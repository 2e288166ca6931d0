/**
 * Opens a model's ONNX Runtime session with the threads and spinning that
 * suit its size, and says plainly why when it cannot.
 */
import { readdirSync, statSync } from "node:fs";
import { availableParallelism } from "node:os";
import { basename, dirname, join } from "node:path";
import * as ort from "onnxruntime-node";
import type { ServerConfig } from "../config.ts";
import type { ModelFolder } from "../model/model-folder.ts";
import { ModelLoadError } from "../model/model-load-error.ts";

export type RunnerOptions = Pick<ServerConfig, "device" | "threads"> &
  Partial<Pick<ServerConfig, "ortSpinning">> & {
    /** Cores for this session when `threads` is "auto" and the model is not small; default: all. */
    cores?: number;
  };

/**
 * Spinning pool threads make each parallel operator start sooner, but burn
 * the cores between runs, starving the worker's own JavaScript and the HTTP
 * thread that must run between steps. Measured on 2 cores: a 2.5M-parameter
 * model (steps of ~1 ms) streamed 0.76x the raw loop with spinning off and
 * 0.47x with it on; a 135M-parameter one (30 layers, steps of ~25 ms) ran
 * 0.89x off and 0.99x on. "auto" spins for models of 64 MB and more.
 */
const LARGE_MODEL_BYTES = 64 * 1024 * 1024;

function spinningFor(options: RunnerOptions, bytes: number): boolean {
  if (options.ortSpinning === "on") return true;
  if (options.ortSpinning === "off") return false;
  return bytes >= LARGE_MODEL_BYTES;
}

/**
 * "auto" gives a small model one intra-op thread. Its operators are too
 * small to split well (measured on 2 cores with the 2.5M-parameter default
 * model, 16 rows: 3.2-3.6 ms per step with 1 thread, 3.4 ms with 2), and the
 * free core then serves HTTP and the worker's JavaScript without stealing
 * time from the run. Large models get every core of the worker.
 */
function threadsFor(options: RunnerOptions, bytes: number): number {
  if (options.threads !== "auto") return options.threads;
  return bytes >= LARGE_MODEL_BYTES ? Math.max(1, options.cores ?? availableParallelism()) : 1;
}

/** The graph plus its external data files, which hold the weights of large models. */
function modelBytes(onnxPath: string): number {
  const dir = dirname(onnxPath);
  const stem = basename(onnxPath);
  return readdirSync(dir)
    .filter((f) => f === stem || f.startsWith(`${stem}.`) || f.startsWith(`${stem}_`))
    .reduce((sum, f) => sum + statSync(join(dir, f)).size, 0);
}

export interface OpenedSession {
  session: ort.InferenceSession;
  /** Intra-op threads and spinning as resolved for this model. */
  threads: number;
  spinning: boolean;
}

export async function openSession(folder: ModelFolder, options: RunnerOptions): Promise<OpenedSession> {
  const bytes = modelBytes(folder.onnxPath);
  const threads = threadsFor(options, bytes);
  const spinning = spinningFor(options, bytes);
  const sessionOptions: ort.InferenceSession.SessionOptions = {
    executionProviders: [options.device],
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    graphOptimizationLevel: "all",
    extra: spinning ? {} : { session: { intra_op: { allow_spinning: "0" }, inter_op: { allow_spinning: "0" } } },
  };
  try {
    return { session: await ort.InferenceSession.create(folder.onnxPath, sessionOptions), threads, spinning };
  } catch (error) {
    const reason = (error as Error).message;
    if (options.device === "cuda") {
      throw new ModelLoadError(
        folder.onnxPath,
        `cannot start the CUDA execution provider (${reason}). onnxruntime-node needs its CUDA 12 binaries ` +
          "(fetch them with `npm run install:cuda`) " +
          "and an NVIDIA driver; or run with --device cpu",
      );
    }
    throw new ModelLoadError(folder.onnxPath, `ONNX Runtime cannot load the model (${reason})`);
  }
}
