/**
 * The cancel relay over Redis (--redis-url), with node-redis, the client
 * Redis maintains for Node: it reconnects by itself (exponential back-off),
 * subscribes again after a reconnect, and with its offline queue disabled a
 * command fails at once while Redis is down instead of waiting for it.
 *
 * Each live request's handles are recorded with this replica's id and its
 * owner's key fingerprint (relay-records.ts); a cancel for a handle held by
 * another replica is published on that replica's channel, which answers
 * with its own engine's result on the asker's reply channel. Redis being
 * down never stops generation or local cancels: registration is skipped
 * (and made good by the refresh once Redis is back), and only a cancel that
 * needs another replica answers 503.
 */
import type { Logger } from "pino";
import { createClient } from "redis";
import type { Usage } from "../domain.ts";
import type { CancelResult } from "../engine/engine.ts";
import { ApiError, cancelRelayUnavailable, requestIdInUse } from "../errors.ts";
import type { CancelRelay, Registration, RelayStatus, RequestHandles } from "./cancel-relay.ts";
import {
  cancelChannel,
  doneKey,
  handlesOf,
  liveKey,
  mayCancel,
  parseCancelAsk,
  parseCancelReply,
  parseDoneRecord,
  parseLiveRecord,
  replyChannel,
  toCancelResult,
  type DoneRecord,
  type LiveRecord,
} from "./relay-records.ts";
import { FINISH, REFRESH, REGISTER } from "./relay-scripts.ts";

/** A live record outlives its replica by at most this long. */
const LIVE_TTL_MS = 30_000;
const REFRESH_EVERY_MS = 10_000;
/** How long a late cancel gets `already_finished` from another replica (locally: the last 10 000 requests). */
const DONE_TTL_MS = 300_000;
/** A Redis that does not answer a command within this is treated as down, for that command. */
const COMMAND_DEADLINE_MS = 1000;
/** How long the replica holding a request has to answer a relayed cancel. */
const RELAY_DEADLINE_MS = 2000;

/** Commands fail at once while Redis is down (no offline queue); reconnection goes on forever, backing off from 100 ms to 2 s. */
const newClient = (url: string) =>
  createClient({
    url,
    disableOfflineQueue: true,
    socket: { connectTimeout: COMMAND_DEADLINE_MS, reconnectStrategy: (retries: number) => Math.min(100 * 2 ** retries, 2000) },
  });

type RedisClient = ReturnType<typeof newClient>;

export interface RedisCancelRelayOptions {
  url: string;
  /** This process's name among the replicas (replica-id.ts). */
  replica: string;
  /** The local engine's cancel: what a relayed cancel runs here. */
  cancelLocally: (handle: string, owner: string | undefined) => CancelResult | null;
  logger: Logger;
}

interface LiveRequest {
  keys: string[];
  /** The live record as written; compared whole by the scripts. */
  record: string;
}

interface PendingRelay {
  resolve: (result: CancelResult | null) => void;
}

/** Never resolves later than `ms`: a Redis that hangs is a Redis that is down. */
function withDeadline<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`Redis did not answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

export class RedisCancelRelay implements CancelRelay {
  private readonly commands: RedisClient;
  private readonly subscriber: RedisClient;
  private readonly live = new Map<string, LiveRequest>();
  private readonly pending = new Map<number, PendingRelay>();
  private nextSeq = 1;
  private readonly refreshTimer: NodeJS.Timeout;
  /** For the logs: whether this outage was already reported. */
  private link: "connecting" | "up" | "down" = "connecting";
  private closed = false;
  private subscribed = false;

  constructor(private readonly options: RedisCancelRelayOptions) {
    this.commands = newClient(options.url);
    this.subscriber = this.commands.duplicate();
    for (const c of [this.commands, this.subscriber]) {
      c.on("error", (error: Error) => this.onError(error));
      c.on("ready", () => this.onReady());
    }
    this.refreshTimer = setInterval(() => void this.refreshAll(), REFRESH_EVERY_MS).unref();
  }

  /** Connects in the background: the server starts and serves whether Redis is up or not. */
  start(): void {
    void this.commands.connect().catch((error: Error) => this.onError(error));
    void this.subscriber
      .connect()
      .then(() =>
        this.subscriber.subscribe([cancelChannel(this.options.replica), replyChannel(this.options.replica)], (message, channel) =>
          channel === replyChannel(this.options.replica) ? this.onReply(message) : void this.onAsk(message),
        ),
      )
      .then(() => {
        // From now on node-redis subscribes again by itself before each reconnection is 'ready'.
        this.subscribed = true;
        this.onReady();
      })
      .catch((error: Error) => this.onError(error));
  }

  status(): RelayStatus {
    return { state: this.connected() ? "connected" : "degraded", replica: this.options.replica };
  }

  async register(handles: RequestHandles): Promise<Registration> {
    const record: LiveRecord = { replica: this.options.replica, id: handles.id, owner: handles.owner ?? null };
    const entry: LiveRequest = { keys: handlesOf(handles).map(liveKey), record: JSON.stringify(record) };
    if (this.commands.isReady) {
      let claimed: unknown = 1;
      try {
        claimed = await withDeadline(this.commands.eval(REGISTER, { keys: entry.keys, arguments: [entry.record, String(LIVE_TTL_MS)] }), COMMAND_DEADLINE_MS);
      } catch (error) {
        // Redis went away meanwhile: go on unregistered; the refresh writes the record once it is back.
        this.onError(error as Error);
      }
      if (claimed === 0 && handles.clientRequestId !== undefined) throw requestIdInUse(handles.clientRequestId);
    }
    this.live.set(handles.id, entry);
    let settled: Promise<void> | null = null;
    const settle = (done: DoneRecord | null): Promise<void> => {
      if (settled) return settled;
      this.live.delete(handles.id);
      settled = this.finish(handles, entry, done);
      return settled;
    };
    return {
      finished: (usage: Usage) => settle({ id: handles.id, owner: record.owner, usage }),
      withdraw: () => settle(null),
    };
  }

  async cancel(handle: string, owner: string | undefined, local: CancelResult | null): Promise<CancelResult | null> {
    if (!this.connected()) {
      if (local !== null) return local;
      throw cancelRelayUnavailable(handle, "Redis, which tells which replica holds it, cannot be reached");
    }
    let found: Array<string | null>;
    try {
      found = await withDeadline(this.commands.mGet([liveKey(handle), doneKey(handle)]), COMMAND_DEADLINE_MS);
    } catch (error) {
      this.onError(error as Error);
      if (local !== null) return local;
      throw cancelRelayUnavailable(handle, "Redis, which tells which replica holds it, cannot be reached");
    }
    const live = parseLiveRecord(found[0]);
    if (live !== null && live.replica !== this.options.replica) {
      // Another key's request is as unknown as a missing one: nothing is relayed, nothing leaks.
      return mayCancel(live.owner, owner) ? this.relay(live.replica, handle, owner) : null;
    }
    if (local !== null) return local;
    const done = parseDoneRecord(found[1]);
    return done !== null && mayCancel(done.owner, owner) ? toCancelResult(done) : null;
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.refreshTimer);
    for (const p of this.pending.values()) p.resolve(null);
    this.pending.clear();
    await Promise.allSettled([this.commands, this.subscriber].map((c) => (c.isOpen ? c.close() : Promise.resolve())));
    for (const c of [this.commands, this.subscriber]) if (c.isOpen) c.destroy();
  }

  /** Able to relay and to be relayed to: both connections up, and this replica's channels listened to. */
  private connected(): boolean {
    return this.commands.isReady && this.subscriber.isReady && this.subscribed;
  }

  /** Publishes the cancel on the owner's channel; its answer arrives on this replica's reply channel. */
  private async relay(replica: string, handle: string, owner: string | undefined): Promise<CancelResult | null> {
    const seq = this.nextSeq++;
    const answered = new Promise<CancelResult | null>((resolve) => this.pending.set(seq, { resolve }));
    const started = performance.now();
    try {
      const ask = JSON.stringify({ from: this.options.replica, seq, handle, owner: owner ?? null });
      const receivers = await withDeadline(this.commands.publish(cancelChannel(replica), ask), COMMAND_DEADLINE_MS);
      // Nobody listens: that replica is gone (its record expires within the live TTL) or has lost Redis itself.
      if (receivers === 0) throw cancelRelayUnavailable(handle, `the replica holding it (${replica}) is not connected to Redis`);
      const result = await withDeadline(answered, RELAY_DEADLINE_MS).catch(() => {
        throw cancelRelayUnavailable(handle, `the replica holding it (${replica}) did not answer within ${RELAY_DEADLINE_MS} ms`);
      });
      this.options.logger.info({ target: handle, owner: replica, status: result?.status ?? "not_found", relayMs: performance.now() - started }, "cancel relayed");
      return result;
    } catch (error) {
      if (error instanceof ApiError) throw error;
      this.onError(error as Error);
      throw cancelRelayUnavailable(handle, "Redis, which carries it to the replica holding it, cannot be reached");
    } finally {
      this.pending.delete(seq);
    }
  }

  /** A cancel relayed to this replica: its engine answers, on the asker's reply channel. */
  private async onAsk(message: string): Promise<void> {
    const ask = parseCancelAsk(message);
    if (ask === null) {
      this.options.logger.warn("ignored a malformed relayed cancel");
      return;
    }
    const result = this.options.cancelLocally(ask.handle, ask.owner ?? undefined);
    this.options.logger.info({ target: ask.handle, from: ask.from, status: result?.status ?? "not_found" }, "relayed cancel");
    try {
      await this.commands.publish(replyChannel(ask.from), JSON.stringify({ seq: ask.seq, result }));
    } catch (error) {
      this.onError(error as Error);
    }
  }

  private onReply(message: string): void {
    const reply = parseCancelReply(message);
    if (reply === null) {
      this.options.logger.warn("ignored a malformed cancel reply");
      return;
    }
    // A reply after the deadline finds nobody waiting: the caller already had its 503.
    this.pending.get(reply.seq)?.resolve(reply.result);
  }

  /** Makes the record of every live request true again: kept alive, or written anew after a Redis restart or outage. */
  private async refreshAll(): Promise<void> {
    if (!this.commands.isReady) return;
    const ttl = String(LIVE_TTL_MS);
    const refreshes = [...this.live.values()].map((entry) => this.commands.eval(REFRESH, { keys: entry.keys, arguments: [entry.record, ttl] }));
    const failed = (await Promise.allSettled(refreshes)).find((r) => r.status === "rejected");
    if (failed) this.onError(failed.reason as Error);
  }

  private async finish(handles: RequestHandles, entry: LiveRequest, done: DoneRecord | null): Promise<void> {
    if (!this.commands.isReady) return;
    const keys = handlesOf(handles).flatMap((h) => [liveKey(h), doneKey(h)]);
    try {
      const finish = this.commands.eval(FINISH, { keys, arguments: [entry.record, done === null ? "" : JSON.stringify(done), String(DONE_TTL_MS)] });
      await withDeadline(finish, COMMAND_DEADLINE_MS);
    } catch (error) {
      // Left to expire: until then a cancel relayed here gets this engine's own already_finished.
      this.onError(error as Error);
    }
  }

  private onReady(): void {
    if (!this.connected()) return;
    this.options.logger.info({ replica: this.options.replica }, "cancel relay: connected to Redis");
    this.link = "up";
    void this.refreshAll();
  }

  /** One warning per outage (node-redis reports every failed reconnection attempt); a failed command on a live link is its own warning. */
  private onError(error: Error): void {
    if (this.closed) return;
    if (this.connected()) {
      this.options.logger.warn({ err: error.message, replica: this.options.replica }, "cancel relay: a Redis command failed");
      return;
    }
    if (this.link === "down") return;
    this.link = "down";
    this.options.logger.warn(
      { err: error.message, replica: this.options.replica },
      "cancel relay: Redis unreachable; generation and local cancels go on, cancels for other replicas' requests answer 503 until it is back",
    );
  }
}
