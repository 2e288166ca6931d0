/**
 * What tests look at inside a running engine, kept off the engine's own
 * API: the engine registers a view of its internals here when it is
 * created, and only code that imports this module (tests, the bench) can
 * reach it.
 */
import type { EventEmitter } from "node:events";
import type { WorkerModelInfo } from "../worker/messages.ts";

export interface EngineIntrospectionEvents {
  /** Every row of the request has left its worker: its KV cache is freed. */
  released: [requestId: string];
}

export interface EngineIntrospection {
  readonly events: EventEmitter<EngineIntrospectionEvents>;
  /** What the first worker learned of the model and its session. */
  readonly modelInfo: WorkerModelInfo;
  /** Ids of requests that have not ended. */
  activeRequestIds(): string[];
  /** Kills one worker thread at its next step boundary, as a crash would. */
  killWorker(index?: number): Promise<void>;
}

const views = new WeakMap<object, EngineIntrospection>();

export function registerIntrospection(engine: object, view: EngineIntrospection): void {
  views.set(engine, view);
}

export function introspect(engine: object): EngineIntrospection {
  const view = views.get(engine);
  if (!view) throw new Error("not an engine that registered an introspection view");
  return view;
}
