/**
 * `chat_template_kwargs` (vLLM's and SGLang's field): extra variables for the
 * model's chat template, such as `enable_thinking`. Names must be usable as
 * template variables and must not replace the ones the server sets.
 */
import { z } from "zod";
import type { JsonValue } from "../domain.ts";
import { nestsDeeperThan } from "../json-depth.ts";

export const MAX_TEMPLATE_KWARGS = 32;
/** Deeper values are no template setting; the bound also keeps the worker's structured clone and the renderer shallow. */
const MAX_DEPTH = 16;
const MAX_BYTES = 65_536;

const VARIABLE_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;

/**
 * Variables the server sets for every render (src/model/chat-template.ts),
 * and the globals @huggingface/jinja declares itself (its environment
 * refuses to declare them twice): a kwarg may not replace them.
 */
export const RESERVED_TEMPLATE_VARIABLES: ReadonlySet<string> = new Set([
  "true",
  "false",
  "none",
  "True",
  "False",
  "None",
  "range",
  "namespace",
  "messages",
  "tools",
  "documents",
  "add_generation_prompt",
  "bos_token",
  "eos_token",
  "unk_token",
  "pad_token",
  "raise_exception",
  "strftime_now",
]);

export const templateKwargsField = z
  .record(z.string(), z.unknown(), { error: "expected an object of template variables" })
  .transform((record, ctx): Record<string, JsonValue> => {
    const keys = Object.keys(record);
    if (keys.length > MAX_TEMPLATE_KWARGS) {
      ctx.addIssue({ code: "custom", message: `at most ${MAX_TEMPLATE_KWARGS} variables are allowed` });
      return z.NEVER;
    }
    for (const key of keys) {
      if (!VARIABLE_NAME.test(key)) {
        ctx.addIssue({ code: "custom", path: [key], message: "variable names are 1 to 64 letters, digits or underscores, not starting with a digit" });
        return z.NEVER;
      }
      if (RESERVED_TEMPLATE_VARIABLES.has(key)) {
        ctx.addIssue({ code: "custom", path: [key], message: `'${key}' is set by the server and cannot be replaced` });
        return z.NEVER;
      }
      if (nestsDeeperThan(record[key], MAX_DEPTH)) {
        ctx.addIssue({ code: "custom", path: [key], message: `values may nest at most ${MAX_DEPTH} levels` });
        return z.NEVER;
      }
    }
    if (Buffer.byteLength(JSON.stringify(record)) > MAX_BYTES) {
      ctx.addIssue({ code: "custom", message: `at most ${MAX_BYTES} bytes of JSON are allowed` });
      return z.NEVER;
    }
    // The body came from JSON.parse, so every value is already JSON data.
    return record as Record<string, JsonValue>;
  })
  .nullish();
