/** The printed dtype table: each model file through the server as ratios to the raw fp32 loop, with the targets. */
import type { ModelDtype } from "../src/config.ts";
import type { DtypeRow, DtypeTable } from "./dtype-table.ts";

/** Batch-1 streamed decode through the server over the raw fp32 loop: llama.cpp's figures on the same weights (f32 GGUF 1.6x, Q8_0 2.6x, Q4_0 3.2x), and the server's own overhead on the plain graph. */
const DECODE_TARGET: Partial<Record<ModelDtype, number>> = { fp32: 0.97, "fp32-fused": 1.6, q8: 2.7, q4: 3.3 };
/** 16 streams' aggregate over the raw fp32 batch-16 loop: what llama-server with 16 slots reached with Q4_0. */
const C16_TARGET: Partial<Record<ModelDtype, number>> = { q4: 1.85 };

const f2 = (n: number): string => (Number.isFinite(n) ? n.toFixed(2) : "-");
const f1 = (n: number): string => (Number.isFinite(n) ? n.toFixed(1) : "-");

function withTarget(value: number, target: number | undefined): string {
  if (target === undefined) return f2(value);
  return `${f2(value)} ${value >= target ? "ok" : "BELOW"} (>= ${target})`;
}

function kl(row: DtypeRow): string {
  const d = row.divergence;
  if (d === null) return "(reference)";
  return `${d.meanKl.toExponential(2)}, max |diff| ${d.maxAbsDiff.toPrecision(2)}, argmax ${d.sameArgmax}/${d.positions}`;
}

export function formatDtypeTable(table: DtypeTable): string[] {
  const { raw } = table;
  const cols: Array<[string, number, (r: DtypeRow) => string]> = [
    ["--dtype", 11, (r) => r.dtype],
    ["file", 26, (r) => r.file],
    ["decode b=1", 22, (r) => withTarget(r.decode.median, DECODE_TARGET[r.dtype])],
    ["tok/s", 7, (r) => f1(r.decodeTokPerSec)],
    [`prefill ${table.longPrompt}`, 11, (r) => f2(r.prefill.median)],
    ["ms", 7, (r) => f1(r.prefillMs)],
    ["c=16 aggregate", 22, (r) => withTarget(r.c16.median, C16_TARGET[r.dtype])],
    ["tok/s", 7, (r) => f1(r.c16TokPerSec)],
    ["KL vs fp32 logits", 0, kl],
  ];
  const line = (cells: string[]): string => cells.map((c, i) => (i < 2 || i === cells.length - 1 ? c.padEnd(cols[i][1]) : c.padStart(cols[i][1]))).join("  ").trimEnd();
  return [
    `   dtypes through the server (--dtype), as ratios to the raw fp32 loop on the plain graph, medians of ${table.rounds} paired rounds ` +
      `(raw: decode ${f1(raw.decodeTokPerSec)} tok/s, prefill ${table.longPrompt} tok ${f1(raw.prefillMs)} ms, batch-16 end to end ${f1(raw.c16TokPerSec)} tok/s):`,
    `   ${line(cols.map(([h]) => h))}`,
    ...table.rows.map((r) => `   ${line(cols.map(([, , cell]) => cell(r)))}`),
    ...table.rows.map((r) => `   ${r.dtype} rounds: decode ${r.decode.rounds.map(f2).join(" ")}; prefill ${r.prefill.rounds.map(f2).join(" ")}; c=16 ${r.c16.rounds.map(f2).join(" ")}`),
    `   KL = mean KL(fp32 || file) of the next-token distributions over one teacher-forced prefill of ${table.longPrompt} tokens` +
      (table.missing.length > 0 ? `; not in the folder: ${table.missing.join(", ")} (npm run optimize -- --model <folder> --dtype q4|q8|fp32 --fuse)` : ""),
  ];
}
