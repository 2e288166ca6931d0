/**
 * One admitted request as the engine tracks it: its rows (one per choice),
 * its event channel, and the single idempotent path by which it ends —
 * finished choices, cancel, disconnect, shutdown and errors all converge on
 * `settle()`.
 */
import { randomInt } from "node:crypto";
import type { ApiError } from "../errors.ts";
import { ChoiceOutput, type ChoiceEvent } from "./choice-output.ts";
import { EventChannel } from "./event-channel.ts";
import type { SamplingParams, TokenLogprob, Usage, ValidGenerationRequest } from "../domain.ts";

export interface EngineRow {
  rowId: number;
  request: EngineRequest;
  choice: ChoiceOutput;
}

export interface EngineRequestInit {
  id: string;
  clientRequestId: string | undefined;
  owner: string | undefined;
  valid: ValidGenerationRequest;
  eosIds: readonly number[];
  nextRowId: () => number;
  /** The consumer stopped reading before the end. */
  onAbandon: () => void;
  /** Called once, when the terminal event has been pushed. */
  onEnded: (request: EngineRequest) => void;
}

export class EngineRequest {
  readonly channel: EventChannel;
  readonly rows: EngineRow[] = [];
  promptIds: Int32Array = new Int32Array(0);
  /** The request's seed, or one drawn for it, so that every choice's stream is fixed at admission. */
  readonly seed: number;
  private ended = false;

  readonly id: string;
  readonly clientRequestId: string | undefined;
  readonly owner: string | undefined;
  readonly valid: ValidGenerationRequest;
  private readonly onEnded: (request: EngineRequest) => void;

  constructor(init: EngineRequestInit) {
    this.id = init.id;
    this.clientRequestId = init.clientRequestId;
    this.owner = init.owner;
    this.valid = init.valid;
    this.onEnded = init.onEnded;
    const valid = init.valid;
    this.channel = new EventChannel(init.onAbandon);
    this.seed = valid.sampling.seed ?? randomInt(0, 2 ** 32);
    for (let index = 0; index < valid.n; index++) {
      this.rows.push({
        rowId: init.nextRowId(),
        request: this,
        choice: new ChoiceOutput(index, { eosIds: init.eosIds, stop: valid.stop }),
      });
    }
  }

  /** Records the encoded prompt and how many tokens each choice may add. */
  setPrompt(ids: Int32Array, maxTokens: number): void {
    this.promptIds = ids;
    for (const row of this.rows) row.choice.maxTokens = maxTokens;
  }

  get sampling(): SamplingParams {
    return this.valid.sampling;
  }

  get isEnded(): boolean {
    return this.ended;
  }

  usage(): Usage {
    const completion = this.rows.reduce((sum, r) => sum + r.choice.generated, 0);
    return { promptTokens: this.promptIds.length, completionTokens: completion, totalTokens: this.promptIds.length + completion };
  }

  /** Feeds one sampled token to its choice and forwards the resulting events. */
  accept(row: EngineRow, token: number, text: string, logprob: TokenLogprob | null): void {
    if (this.ended) return;
    this.forward(row.choice.accept(token, text, logprob));
    this.endIfComplete();
  }

  /** Cancels every unfinished choice; a no-op once the request has ended. */
  cancel(): void {
    if (this.ended) return;
    for (const row of this.rows) {
      this.forward(row.choice.cancel());
    }
    this.endIfComplete();
  }

  fail(error: ApiError): void {
    if (this.ended) return;
    this.ended = true;
    this.channel.push({ type: "error", error });
    this.onEnded(this);
  }

  private forward(events: ChoiceEvent[]): void {
    for (const e of events) this.channel.push(e);
  }

  private endIfComplete(): void {
    if (this.rows.every((r) => r.choice.finished)) {
      this.ended = true;
      this.channel.push({ type: "end", usage: this.usage() });
      this.onEnded(this);
    }
  }
}
