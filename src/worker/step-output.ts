/** Accumulates one step's per-row results into the typed-array message the engine receives. */
import type { StepResult } from "./messages.ts";
import type { ReleaseReport } from "./release-timer.ts";
import type { SampledToken } from "./worker-row.ts";

export class StepOutput {
  private readonly rowIds: number[] = [];
  private readonly tokens: number[] = [];
  private readonly ends: number[] = [];
  private readonly texts: string[] = [];
  private readonly logprobs: StepResult["logprobs"] = [];

  constructor(private readonly stepId: number) {}

  add(rowId: number, sampled: SampledToken): void {
    this.rowIds.push(rowId);
    this.tokens.push(sampled.token);
    this.ends.push(sampled.end);
    this.texts.push(sampled.text);
    this.logprobs.push(sampled.logprob);
  }

  result(releases: ReleaseReport, stepMs: number): StepResult {
    return {
      type: "stepDone",
      stepId: this.stepId,
      rowIds: Int32Array.from(this.rowIds),
      tokens: Int32Array.from(this.tokens),
      ends: Uint8Array.from(this.ends),
      texts: this.texts,
      logprobs: this.logprobs,
      ...releases,
      stepMs,
    };
  }
}
