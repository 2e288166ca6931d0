/**
 * A scripted Engine for HTTP tests: each start() records its arguments and
 * plays a script of events; a script may wait on the abort signal to model
 * a long generation.
 */
import { Gauge, Registry } from "prom-client";
import type { Usage, ValidGenerationRequest } from "../../src/domain.ts";
import type { CancelResult, Engine, EngineHealth, Generation, ModelCard, SubmitOptions, TokenEvent } from "../../src/engine/engine.ts";

export type EventScript = (request: ValidGenerationRequest, options: SubmitOptions) => AsyncIterable<TokenEvent>;

export interface StartCall {
  request: ValidGenerationRequest;
  options: SubmitOptions;
  /** Resolves when the HTTP layer ends the iteration early (return() on the iterator). */
  returned: Promise<void>;
}

export const USAGE = { promptTokens: 5, completionTokens: 2, totalTokens: 7 };
/** USAGE as clients see it. */
export const WIRE_USAGE = { prompt_tokens: 5, completion_tokens: 2, total_tokens: 7 };

/** "Hello world" for every choice, finished by "stop". */
export const helloScript: EventScript = async function* (request) {
  for (let index = 0; index < request.n; index++) {
    yield { type: "delta", index, text: "Hello" };
    yield { type: "delta", index, text: " world" };
    yield { type: "finish", index, finishReason: "stop" };
  }
  yield { type: "end", usage: USAGE };
};

/** One delta, then waits until the client goes away, then ends as cancelled. */
export const untilAbortScript: EventScript = async function* (_request, options) {
  yield { type: "delta", index: 0, text: "Hel" };
  await new Promise<void>((resolve) => {
    if (options.signal.aborted) resolve();
    options.signal.addEventListener("abort", () => resolve(), { once: true });
  });
  yield { type: "finish", index: 0, finishReason: "cancelled" };
  yield { type: "end", usage: { promptTokens: 5, completionTokens: 1, totalTokens: 6 } };
};

export class FakeEngine implements Engine {
  readonly model: ModelCard = {
    id: "tiny-chat",
    created: 1_700_000_000,
    ownedBy: "test",
    contextLength: 2048,
    dtype: "fp32",
    file: "onnx/model.onnx",
    layout: "optimum",
    structuredOutput: true,
  };
  healthState: EngineHealth = { ready: true, loading: false, workersAlive: 1, workersTotal: 1, queued: 0, running: 0, shuttingDown: false };
  script: EventScript = helloScript;
  /** Thrown by start() instead of admitting, e.g. a 429 or context_length_exceeded. */
  startError: Error | null = null;
  readonly starts: StartCall[] = [];
  readonly cancels: Array<{ id: string; owner: string | undefined }> = [];
  cancelResult: (id: string, owner: string | undefined) => CancelResult | null = () => null;
  private startListeners: Array<(call: StartCall) => void> = [];

  async start(request: ValidGenerationRequest, options: SubmitOptions): Promise<Generation> {
    if (this.startError !== null) throw this.startError;
    let markReturned!: () => void;
    const returned = new Promise<void>((resolve) => (markReturned = resolve));
    const call: StartCall = { request, options, returned };
    this.starts.push(call);
    for (const listener of this.startListeners.splice(0)) listener(call);
    const source = this.script(request, options);
    // What the script's end event reports, once it has been played; the prompt alone before.
    let usage: Usage = { promptTokens: USAGE.promptTokens, completionTokens: 0, totalTokens: USAGE.promptTokens };
    const events: AsyncIterable<TokenEvent> = {
      [Symbol.asyncIterator]: () => {
        const iterator = source[Symbol.asyncIterator]();
        return {
          next: async () => {
            const result = await iterator.next();
            if (!result.done && result.value.type === "end") usage = result.value.usage;
            return result;
          },
          return: async () => {
            markReturned();
            await iterator.return?.();
            return { done: true, value: undefined };
          },
        };
      },
    };
    return { id: options.id, promptTokens: USAGE.promptTokens, events, usage: () => usage };
  }

  /** Resolves with the next start() call (or the latest one if already made). */
  nextStart(): Promise<StartCall> {
    return new Promise((resolve) => this.startListeners.push(resolve));
  }

  cancel(id: string, owner?: string): CancelResult | null {
    this.cancels.push({ id, owner });
    return this.cancelResult(id, owner);
  }

  health(): EngineHealth {
    return this.healthState;
  }

  /** One engine metric, so tests can see that /metrics shows the engine's registry. */
  readonly metricsRegistry = new Registry();

  constructor() {
    const engine = this;
    new Gauge({
      name: "onnx_server_num_requests_running",
      help: "Rows held by the model workers (the fake engine's health().running).",
      registers: [this.metricsRegistry],
      collect() {
        this.set(engine.healthState.running);
      },
    });
  }

  async close(): Promise<void> {
    this.healthState = { ...this.healthState, shuttingDown: true };
  }
}
