/**
 * What the replicas write into Redis and send each other, and how it is
 * read back: every value that comes out of Redis is parsed by a zod schema
 * (another replica, another version, or anyone with access to the Redis
 * may have written it), never trusted as it is.
 *
 * Keys (one Redis, or one database of it, per deployment):
 * - `onnx-openai-server:live:<handle>`: the replica holding a queued or
 *   running request, its owner's key fingerprint and completion id; a TTL
 *   that the holder keeps fresh, so a replica that dies leaves nothing
 *   behind for long.
 * - `onnx-openai-server:done:<handle>`: a finished request's completion id,
 *   owner and usage, for a late cancel's `already_finished`.
 * Channels: `onnx-openai-server:cancel:<replica>` (cancels for a replica)
 * and `onnx-openai-server:cancel-reply:<replica>` (answers to its relays).
 */
import { z } from "zod";
import type { CancelResult } from "../engine/engine.ts";
import type { RequestHandles } from "./cancel-relay.ts";

const PREFIX = "onnx-openai-server";

export const liveKey = (handle: string): string => `${PREFIX}:live:${handle}`;
export const doneKey = (handle: string): string => `${PREFIX}:done:${handle}`;
export const cancelChannel = (replica: string): string => `${PREFIX}:cancel:${replica}`;
export const replyChannel = (replica: string): string => `${PREFIX}:cancel-reply:${replica}`;

/** A request's handles: its completion id, then the client's id when it sent one. */
export const handlesOf = (request: RequestHandles): string[] =>
  request.clientRequestId === undefined ? [request.id] : [request.id, request.clientRequestId];

const count = z.number().int().nonnegative();
const usage = z.object({ promptTokens: count, completionTokens: count, totalTokens: count });
/** Owners travel as null when API keys are off (JSON has no undefined). */
const owner = z.string().min(1).nullable();

const liveRecord = z.object({ replica: z.string().min(1), id: z.string().min(1), owner });
export type LiveRecord = z.infer<typeof liveRecord>;

const doneRecord = z.object({ id: z.string().min(1), owner, usage });
export type DoneRecord = z.infer<typeof doneRecord>;

const cancelAsk = z.object({ from: z.string().min(1), seq: count, handle: z.string().min(1), owner });
export type CancelAsk = z.infer<typeof cancelAsk>;

const cancelResult = z.object({ id: z.string().min(1), status: z.enum(["cancelled", "already_finished"]), usage });
const cancelReply = z.object({ seq: count, result: cancelResult.nullable() });
export type CancelReply = z.infer<typeof cancelReply>;

/** The JSON of a record or message, or null when it is not one (garbage, another schema). */
function parseWith<T>(schema: z.ZodType<T>, raw: string | null | undefined): T | null {
  if (raw === null || raw === undefined) return null;
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    return null;
  }
  const result = schema.safeParse(json);
  return result.success ? result.data : null;
}

export const parseLiveRecord = (raw: string | null | undefined): LiveRecord | null => parseWith(liveRecord, raw);
export const parseDoneRecord = (raw: string | null | undefined): DoneRecord | null => parseWith(doneRecord, raw);
export const parseCancelAsk = (raw: string): CancelAsk | null => parseWith(cancelAsk, raw);
export const parseCancelReply = (raw: string): CancelReply | null => parseWith(cancelReply, raw);

/** The owner rule, as the engine applies it: a request made without a key may be cancelled by anyone. */
export const mayCancel = (recordOwner: string | null, caller: string | undefined): boolean => recordOwner === null || recordOwner === caller;

export const toCancelResult = (done: DoneRecord): CancelResult => ({ id: done.id, status: "already_finished", usage: done.usage });
