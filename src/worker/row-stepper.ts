/**
 * The rows a worker holds and the step that advances them: prefill for
 * admitted rows, one decode position for the others, then per row sampling,
 * logprobs and incremental detokenization. Logits never leave the worker.
 */
import { IncrementalDetokenizer } from "../generation/detokenizer.ts";
import { tokenLogprobs } from "../generation/logprobs.ts";
import { RowSampler } from "../generation/sampler.ts";
import type { LoadedTokenizer } from "../model/tokenizer.ts";
import type { AdmitRow, StepResult } from "./messages.ts";
import type { ModelRunner, RowKv } from "./model-runner.ts";

interface WorkerRow {
  kv: RowKv;
  sampler: RowSampler;
  detokenizer: IncrementalDetokenizer;
  lastToken: number;
  logprobs: number | null;
}

export class RowStepper {
  private readonly rows = new Map<number, WorkerRow>();

  constructor(
    private readonly runner: ModelRunner,
    private readonly tokenizer: LoadedTokenizer,
  ) {}

  get size(): number {
    return this.rows.size;
  }

  async step(stepId: number, admit: AdmitRow[], decode: Int32Array, release: Int32Array): Promise<StepResult> {
    for (const id of release) this.rows.delete(id);
    const rowIds = new Int32Array(admit.length + decode.length);
    const tokens = new Int32Array(rowIds.length);
    const texts: string[] = [];
    const logprobs: StepResult["logprobs"] = [];
    let i = 0;
    const record = (rowId: number, row: WorkerRow, logits: Float32Array): void => {
      const raw = row.logprobs !== null ? logits.slice() : null;
      const token = row.sampler.sample(logits);
      row.lastToken = token;
      rowIds[i] = rowId;
      tokens[i] = token;
      texts.push(row.detokenizer.push(token));
      logprobs.push(raw && row.logprobs !== null ? this.describeLogprobs(raw, token, row.logprobs) : null);
      i++;
    };
    for (const a of admit) {
      const row: WorkerRow = {
        kv: this.runner.emptyKv(),
        sampler: new RowSampler(a.sampling, a.seed, a.stream, a.promptIds),
        detokenizer: new IncrementalDetokenizer({ decode: (ids) => this.decode(ids) }, a.promptIds),
        lastToken: -1,
        logprobs: a.logprobs,
      };
      this.rows.set(a.rowId, row);
      record(a.rowId, row, await this.runner.forward(row.kv, a.promptIds));
    }
    for (const rowId of decode) {
      const row = this.rows.get(rowId);
      if (!row) throw new Error(`step ${stepId}: unknown row ${rowId}`);
      record(rowId, row, await this.runner.forward(row.kv, [row.lastToken]));
    }
    return { type: "stepDone", stepId, rowIds, tokens, texts, logprobs };
  }

  private decode(ids: number[]): string {
    return ids.length === 0 ? "" : this.tokenizer.full.decode(ids, { skip_special_tokens: true, clean_up_tokenization_spaces: false });
  }

  private describeLogprobs(raw: Float32Array, token: number, top: number): StepResult["logprobs"][number] {
    const lp = tokenLogprobs(raw, token, top);
    const text = (id: number): string => this.tokenizer.full.decode([id], { skip_special_tokens: false, clean_up_tokenization_spaces: false });
    return { ...lp, tokenText: text(token), topTexts: lp.top.map((t) => text(t.id)) };
  }
}
