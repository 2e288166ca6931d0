/**
 * Finds requests by completion id or by the client's X-Request-Id, and
 * remembers recently finished ones so that cancel stays idempotent
 * ("already_finished") after a request has ended.
 */
import type { EngineRequest } from "./engine-request.ts";
import type { Usage } from "../domain.ts";

export interface FinishedRecord {
  id: string;
  owner: string | undefined;
  usage: Usage;
}

export class RequestRegistry {
  private readonly active = new Map<string, EngineRequest>();
  private readonly finished = new Map<string, FinishedRecord>();

  constructor(private readonly finishedCapacity = 10_000) {}

  /** True when the handle names a request that is still running. */
  isActive(handle: string): boolean {
    return this.active.has(handle);
  }

  add(request: EngineRequest): void {
    this.active.set(request.id, request);
    if (request.clientRequestId) {
      this.active.set(request.clientRequestId, request);
      this.finished.delete(request.clientRequestId);
    }
  }

  /** Moves a request to the finished records (or drops it when it was never admitted). */
  end(request: EngineRequest, remember: boolean): void {
    const handles = [request.id, ...(request.clientRequestId ? [request.clientRequestId] : [])];
    for (const h of handles) if (this.active.get(h) === request) this.active.delete(h);
    if (!remember) return;
    const record: FinishedRecord = { id: request.id, owner: request.owner, usage: request.usage() };
    for (const h of handles) {
      this.finished.delete(h);
      this.finished.set(h, record);
    }
    // Map iteration is insertion order: the first keys are the oldest.
    while (this.finished.size > this.finishedCapacity) this.finished.delete(this.finished.keys().next().value!);
  }

  findActive(handle: string): EngineRequest | undefined {
    return this.active.get(handle);
  }

  findFinished(handle: string): FinishedRecord | undefined {
    return this.finished.get(handle);
  }

  activeRequests(): EngineRequest[] {
    return [...new Set(this.active.values())];
  }
}
