import pino from "pino";
import { defaultConfig } from "../../src/config.ts";
import type { SamplingParams, ValidGenerationRequest } from "../../src/domain.ts";
import type { TokenEvent } from "../../src/engine/engine.ts";
import { introspect } from "../../src/engine/introspection.ts";
import { OnnxEngine, type OnnxEngineOptions } from "../../src/engine/onnx-engine.ts";

export { introspect };

export const greedy: SamplingParams = {
  temperature: 0,
  topP: 1,
  topK: 0,
  minP: 0,
  seed: null,
  presencePenalty: 0,
  frequencyPenalty: 0,
  repetitionPenalty: 1,
  logitBias: [],
};

/** A real engine on the server's defaults, one intra-op thread, batches of 8, and `overrides`. */
export function startEngine(modelPath: string, overrides: Partial<OnnxEngineOptions> = {}): Promise<OnnxEngine> {
  return OnnxEngine.create({
    ...defaultConfig({ modelPath, threads: 1, maxBatchSize: 8, maxQueue: 64 }),
    logger: pino({ level: "silent" }),
    ...overrides,
  });
}

export function textRequest(text: string, overrides: Partial<ValidGenerationRequest> = {}): ValidGenerationRequest {
  return {
    prompt: { kind: "text", text },
    sampling: greedy,
    maxTokens: 20,
    stop: [],
    n: 1,
    logprobs: null,
    promptParam: "prompt",
    constraint: null,
    tools: null,
    ...overrides,
  };
}

export interface Collected {
  text: string[];
  finish: string[];
  events: TokenEvent[];
}

export async function collect(events: AsyncIterable<TokenEvent>): Promise<Collected> {
  const out: Collected = { text: [], finish: [], events: [] };
  for await (const e of events) {
    out.events.push(e);
    if (e.type === "delta") out.text[e.index] = (out.text[e.index] ?? "") + e.text;
    if (e.type === "finish") out.finish[e.index] = e.finishReason;
  }
  return out;
}

let counter = 0;
export const nextId = (): string => `test-${process.pid}-${++counter}`;

/** Resolves when the engine reports that every row of `id` has left its worker; register before triggering. */
export function whenReleased(engine: OnnxEngine, id: string): Promise<void> {
  const { events } = introspect(engine);
  return new Promise((resolve) => {
    const on = (rid: string): void => {
      if (rid !== id) return;
      events.off("released", on);
      resolve();
    };
    events.on("released", on);
  });
}
