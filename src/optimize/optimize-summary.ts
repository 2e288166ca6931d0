/**
 * What the `optimize` command prints when it has written a file: the
 * format, what was quantized and what was left (grouped by reason), the
 * fusion and its proof (or why there was none), sizes, and the output.
 */
import { basename, relative } from "node:path";
import type { FuseDtype } from "./dtypes.ts";
import type { FusionOutcome } from "./fuse/fuse-model.ts";
import type { OptimizeResult } from "./optimize-model.ts";
import type { QuantizeOptions } from "./quantize-matmuls.ts";

export function summary(result: OptimizeResult, dtype: FuseDtype, options: QuantizeOptions | null, fusion?: FusionOutcome): string[] {
  const { report, input, output } = result;
  const inputTotal = input.protoBytes + input.dataBytes;
  const outputTotal = output.protoBytes + output.dataBytes;
  const lines = [`optimized ${input.path}`];
  if (options) {
    const floatBytes = sum(report.quantized.filter((q) => !q.shared).map((q) => q.floatBytes));
    const quantBytes = sum(report.quantized.filter((q) => !q.shared).map((q) => q.quantizedBytes));
    lines.push(
      `  format: ${dtype}, ${options.bits}-bit MatMulNBits, block ${options.blockSize}, ${options.symmetric ? "symmetric" : "with zero points"}, accuracy_level ${options.accuracyLevel}`,
      `  MatMuls quantized: ${report.quantized.length} (weights ${mb(floatBytes)} -> ${mb(quantBytes)})`,
      `  MatMuls left as they were: ${report.left.length}`,
    );
  } else {
    lines.push(`  format: ${dtype}, weights not quantized`);
  }
  const byReason = new Map<string, string[]>();
  for (const l of report.left) byReason.set(l.reason, [...(byReason.get(l.reason) ?? []), l.node]);
  for (const [reason, nodes] of byReason) {
    const shown = nodes.slice(0, 3).join(", ") + (nodes.length > 3 ? `, … (${nodes.length - 3} more)` : "");
    lines.push(`    ${nodes.length} x ${reason}: ${shown}`);
  }
  if (report.removedInitializers.length > 0) lines.push(`  float weights no longer read, removed: ${report.removedInitializers.length}`);
  if (fusion?.fused) {
    lines.push(
      `  fused: ${fusion.layers} layers into GroupQueryAttention, (Skip)SimplifiedLayerNormalization and packed q|k|v${fusion.packedGateUp ? " and gate|up" : ""} (${fusion.nodesBefore} -> ${fusion.nodesAfter} nodes)`,
      `  fused graph checked against the original on probe inputs: ${fusion.verification.reason}`,
    );
  } else if (fusion) {
    lines.push(`  not fused: ${fusion.reason}`, `  wrote the quantize-only graph instead`);
  }
  const data = output.dataPath ? ` + ${basename(output.dataPath)} (external data)` : "";
  lines.push(`  size: ${mb(inputTotal)} -> ${mb(outputTotal)} (${(outputTotal / inputTotal).toFixed(2)}x)`);
  lines.push(`  output: ${shortPath(output.path)}${data}`);
  for (const w of result.warnings) lines.push(`  warning: ${w}`);
  return lines;
}

/** Relative to the working directory when under it, else absolute. */
function shortPath(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel && !rel.startsWith("..") ? rel : path;
}

function sum(values: number[]): number {
  return values.reduce((a, b) => a + b, 0);
}

function mb(bytes: number): string {
  return `${(bytes / 1e6).toFixed(bytes < 1e7 ? 2 : 1)} MB`;
}
