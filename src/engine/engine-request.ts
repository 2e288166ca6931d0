/**
 * One admitted request as the engine tracks it: its rows (one per choice),
 * its event channel, and the one idempotent way it ends. Finished choices,
 * cancel, disconnect, shutdown and errors all end it through `endIfComplete`
 * or `fail`, which push the terminal event and call `onEnded` exactly once.
 */
import { randomInt } from "node:crypto";
import type { TokenLogprob, Usage, ValidGenerationRequest } from "../domain.ts";
import type { ApiError } from "../errors.ts";
import type { RowEnd, ToolTrigger } from "../worker/messages.ts";
import { ChoiceOutput, type ChoiceEvent } from "./choice-output.ts";
import { EventChannel } from "./event-channel.ts";
import type { TextShape } from "./choice-text.ts";
import type { ToolDecoding } from "./tool-decoding.ts";
import { markerTexts, TOOL_CALL_SYNTAX } from "../generation/tools/tool-call-format.ts";

export interface EngineRow {
  rowId: number;
  request: EngineRequest;
  choice: ChoiceOutput;
  /** performance.now() when this choice's latest token arrived; NaN before its first. Set by the scheduler. */
  lastTokenAtMs: number;
}

export interface EngineRequestInit {
  id: string;
  clientRequestId: string | undefined;
  owner: string | undefined;
  valid: ValidGenerationRequest;
  /** What steers the rows: the constraint (response_format, or forced tool calls) and the tool-call trigger. */
  decoding: ToolDecoding;
  /** How each choice's text is read: reasoning, tool calls, content. */
  shape?: TextShape;
  nextRowId: () => number;
  /** The consumer stopped reading before the end. */
  onAbandon: () => void;
  /** Called once, when the terminal event has been pushed. */
  onEnded: (request: EngineRequest) => void;
}

export class EngineRequest {
  readonly channel: EventChannel;
  readonly rows: EngineRow[] = [];
  /** The encoded prompt; null until the worker has encoded it. */
  promptIds: Int32Array | null = null;
  /** Tokens each choice may generate (max_tokens or the rest of the context); set with the prompt. */
  maxTokens = 0;
  /** The request's seed, or one drawn for it, so that every choice's random sequence is fixed at admission. */
  readonly seed: number;
  /**
   * performance.now() when the request was admitted and queued on its
   * worker (its prompt is encoded while it waits), when its first row was
   * sent to a batch, and when its first token arrived; NaN until then. The
   * scheduler sets the last two: it is the one that knows.
   */
  readonly queuedAtMs = performance.now();
  scheduledAtMs = Number.NaN;
  firstTokenAtMs = Number.NaN;
  private ended = false;

  readonly id: string;
  readonly clientRequestId: string | undefined;
  readonly owner: string | undefined;
  readonly valid: ValidGenerationRequest;
  readonly decoding: ToolDecoding;
  private readonly shape: TextShape | undefined;
  private opensReasoning = false;
  private readonly onEnded: (request: EngineRequest) => void;

  constructor(init: EngineRequestInit) {
    this.id = init.id;
    this.clientRequestId = init.clientRequestId;
    this.owner = init.owner;
    this.valid = init.valid;
    this.decoding = init.decoding;
    this.shape = init.shape;
    this.onEnded = init.onEnded;
    this.channel = new EventChannel(init.onAbandon);
    this.seed = init.valid.sampling.seed ?? randomInt(0, 2 ** 32);
    for (let index = 0; index < init.valid.n; index++) {
      this.rows.push({ rowId: init.nextRowId(), request: this, choice: new ChoiceOutput(index, init.valid.stop, init.shape), lastTokenAtMs: Number.NaN });
    }
  }

  /** Records the encoded prompt and how many tokens each choice may add; its rows may then run. */
  setPrompt(ids: Int32Array, maxTokens: number, opensReasoning = false): void {
    this.promptIds = ids;
    this.maxTokens = maxTokens;
    this.opensReasoning = opensReasoning;
    for (const row of this.rows) row.choice.promptOpensReasoning(opensReasoning);
  }

  /** The call markers the rows' text must show, when they read tool calls. */
  get keepMarkers(): readonly string[] {
    const tools = this.shape?.tools;
    return tools ? markerTexts(TOOL_CALL_SYNTAX[tools.format]) : [];
  }

  /** The tool-call trigger the rows carry (tool_choice auto), told where the model's thinking is, which holds no calls. */
  get toolTrigger(): ToolTrigger | null {
    const trigger = this.decoding.toolTrigger;
    if (!trigger) return null;
    const tags = this.shape?.reasoning ?? null;
    return { ...trigger, reasoning: tags ? { open: tags.open, close: tags.close, inside: this.opensReasoning } : null };
  }

  get promptLength(): number {
    return this.promptIds?.length ?? 0;
  }

  get isEnded(): boolean {
    return this.ended;
  }

  usage(): Usage {
    const completion = this.rows.reduce((sum, r) => sum + r.choice.generated, 0);
    return { promptTokens: this.promptLength, completionTokens: completion, totalTokens: this.promptLength + completion };
  }

  /** Feeds one sampled token to its choice and forwards the resulting events. */
  accept(row: EngineRow, text: string, logprob: TokenLogprob | null, end: RowEnd): void {
    if (this.ended) return;
    this.forward(row.choice.accept(text, logprob, end));
    this.endIfComplete();
  }

  /** Cancels every unfinished choice. False when the request had already ended: nothing was cancelled. */
  cancel(): boolean {
    if (this.ended) return false;
    for (const row of this.rows) this.forward(row.choice.cancel());
    this.endIfComplete();
    return true;
  }

  fail(error: ApiError): void {
    this.end({ type: "error", error });
  }

  /**
   * Ends a request that was refused while being admitted: its caller gets
   * the error from `start`, so no event is sent, and nothing is remembered.
   */
  discard(): void {
    this.ended = true;
  }

  private forward(events: ChoiceEvent[]): void {
    for (const e of events) this.channel.push(e);
  }

  private endIfComplete(): void {
    if (this.rows.every((r) => r.choice.finished)) this.end({ type: "end", usage: this.usage() });
  }

  private end(terminal: { type: "end"; usage: Usage } | { type: "error"; error: ApiError }): void {
    if (this.ended) return;
    this.ended = true;
    this.channel.push(terminal);
    this.onEnded(this);
  }
}
