/**
 * What the HTTP layer asks of the other replicas: the stop endpoint must
 * work whichever replica the gateway sends it to. A replica records each
 * live request's handles (registration), and a cancel for a handle it does
 * not hold goes to the replica that does (the relay). Without --redis-url
 * there are no other replicas: `singleReplica` answers exactly what the
 * local engine answered.
 */
import type { Usage } from "../domain.ts";
import type { CancelResult } from "../engine/engine.ts";

/** The names a request can be cancelled by, and who may cancel it. */
export interface RequestHandles {
  /** The completion id (chatcmpl-… / cmpl-…). */
  id: string;
  /** The client's X-Request-Id, when it sent one. */
  clientRequestId: string | undefined;
  /** Fingerprint of the API key that made the request (never the key); undefined without API keys. */
  owner: string | undefined;
}

/**
 * One registered request; exactly one of the two is called, once. Each
 * resolves once the other replicas see the change (or Redis failed to take
 * it): a refused request's 503 must not reach a gateway, which retries it on
 * another replica with the same client id, before its id is free again.
 */
export interface Registration {
  /** The request ended: its handles answer `already_finished` with this usage for a while. */
  finished(usage: Usage): Promise<void>;
  /** The request was refused before it was admitted: its handles are forgotten. */
  withdraw(): Promise<void>;
}

export type RelayStatus =
  | { state: "off" }
  /** `degraded`: Redis cannot be reached; local cancels work, cancels for other replicas' requests answer 503. */
  | { state: "connected" | "degraded"; replica: string };

export interface CancelRelay {
  /**
   * Records a request's handles before the engine admits it. Rejects with
   * 400 request_id_in_use when another replica holds the client id live.
   * Never waits for an unreachable Redis: the request then goes on, known
   * to this replica only until Redis is back.
   */
  register(handles: RequestHandles): Promise<Registration>;
  /**
   * A cancel this replica's engine did not perform: `local` is what it
   * answered (`already_finished`, or null for an unknown handle). Resolves
   * with the answer of the replica that holds the request live, else the
   * finished record; null when no replica knows the handle (or it belongs
   * to another key). Rejects with 503 when the answer needs Redis and Redis
   * or the owning replica cannot be reached.
   */
  cancel(handle: string, owner: string | undefined, local: CancelResult | null): Promise<CancelResult | null>;
  status(): RelayStatus;
  close(): Promise<void>;
}

const NOTHING_TO_RECORD: Registration = { finished: async () => undefined, withdraw: async () => undefined };

/** One replica, no Redis: nothing is recorded and the local answer is the answer. */
export const singleReplica: CancelRelay = {
  register: async () => NOTHING_TO_RECORD,
  cancel: async (_handle, _owner, local) => local,
  status: () => ({ state: "off" }),
  close: async () => undefined,
};
