/**
 * Chat fields that describe a request rather than change its output, as
 * OpenAI defines them: `metadata`, `safety_identifier`, `service_tier`,
 * `prompt_cache_key` (and `user`, shared with completions). They are
 * accepted so that clients sending them work; the end-user ids and the
 * metadata go to the request's log line, the others change nothing.
 * Values the server cannot honour are refused (`store: true` is an
 * unsupported field in chat-request.ts).
 */
import { z } from "zod";
import { text } from "./fields.ts";

const MAX_METADATA_PAIRS = 16;
const MAX_METADATA_KEY = 64;
const MAX_METADATA_VALUE = 512;
const MAX_SAFETY_IDENTIFIER = 64;

const metadataField = z
  .record(z.string(), z.unknown(), { error: "expected an object of string values" })
  .transform((record, ctx): Record<string, string> => {
    const entries = Object.entries(record);
    if (entries.length > MAX_METADATA_PAIRS) {
      ctx.addIssue({ code: "custom", message: `at most ${MAX_METADATA_PAIRS} key-value pairs are allowed` });
      return z.NEVER;
    }
    for (const [key, value] of entries) {
      if (key.length > MAX_METADATA_KEY) {
        ctx.addIssue({ code: "custom", path: [key], message: `keys are at most ${MAX_METADATA_KEY} characters` });
        return z.NEVER;
      }
      if (typeof value !== "string" || value.length > MAX_METADATA_VALUE) {
        ctx.addIssue({ code: "custom", path: [key], message: `expected a string of at most ${MAX_METADATA_VALUE} characters` });
        return z.NEVER;
      }
    }
    return record as Record<string, string>;
  })
  .nullish();

export const informationalFields = {
  metadata: metadataField,
  safety_identifier: text.refine((s) => s.length <= MAX_SAFETY_IDENTIFIER, { error: `expected a string of at most ${MAX_SAFETY_IDENTIFIER} characters` }).nullish(),
  // The server has one tier; "auto" resolves to it.
  service_tier: z.enum(["auto", "default"], { error: "this server has only the 'default' service tier (send 'auto' or 'default')" }).nullish(),
  // OpenAI's prompt-cache routing hint: one server has one cache, so there is nothing to route.
  prompt_cache_key: text.nullish(),
};

export interface RequestLabels {
  /** OpenAI's `safety_identifier` (the successor of `user`); logged only. */
  safetyIdentifier: string | null;
  /** The client's `metadata`; logged only. */
  metadata: Record<string, string> | null;
}

export function toRequestLabels(fields: z.output<z.ZodObject<typeof informationalFields>>): RequestLabels {
  return { safetyIdentifier: fields.safety_identifier ?? null, metadata: fields.metadata ?? null };
}
