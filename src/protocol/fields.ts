/**
 * Field schemas shared by the chat and completion request parsers. Every
 * optional OpenAI field also accepts null (the SDKs send null for "unset").
 */
import { z } from "zod";

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/**
 * JSON may carry lone surrogates ("\ud800"); they cannot be encoded as UTF-8
 * for the tokenizer, so they become U+FFFD rather than a crash or a 400.
 */
export const toWellFormed = (s: string): string => s.replace(LONE_SURROGATE, "\uFFFD");

export const text = z.string({ error: "expected a string" }).transform(toWellFormed);

/** A number in [min, max] (or (min, max] with minExclusive); zod 4 already rejects NaN and ±Infinity. */
export function boundedNumber(min: number, max: number, options: { minExclusive?: boolean } = {}) {
  const range = options.minExclusive ? `greater than ${min} and at most ${max}` : `between ${min} and ${max}`;
  const base = z.number({ error: `expected a finite number ${range}` });
  return (options.minExclusive ? base.gt(min, { error: `expected a number ${range}` }) : base.gte(min, { error: `expected a number ${range}` })).lte(
    max,
    { error: `expected a number ${range}` },
  );
}

export function boundedInteger(min: number, max: number) {
  return z
    .number({ error: `expected an integer between ${min} and ${max}` })
    .int({ error: `expected an integer between ${min} and ${max}` })
    .gte(min, { error: `expected an integer between ${min} and ${max}` })
    .lte(max, { error: `expected an integer between ${min} and ${max}` });
}

export const positiveInteger = z
  .number({ error: "expected a positive integer" })
  .int({ error: "expected a positive integer" })
  .gte(1, { error: "expected a positive integer" });

/** `stop`: a string or up to maxStop non-empty strings; [] and null mean none. */
export function stopField(maxStop: number) {
  const one = text.refine((s) => s.length > 0, { error: "stop strings must not be empty" });
  return z
    .union([one.transform((s) => [s]), z.array(one, { error: "expected a string or an array of strings" })], {
      error: "expected a string or an array of strings",
    })
    .refine((list) => list.length <= maxStop, { error: `at most ${maxStop} stop strings are allowed` })
    .nullish();
}

const MAX_TOKEN_ID = 2 ** 31 - 1;

/**
 * `logit_bias`: token-id strings to biases in [-100, 100]. Errors name the
 * offending key (`logit_bias.<key>`) so a client sees which entry is wrong.
 */
export const logitBiasField = z
  .record(z.string(), z.unknown(), { error: "expected an object mapping token ids to numbers" })
  .transform((record, ctx) => {
    const pairs: Array<[number, number]> = [];
    for (const [key, value] of Object.entries(record)) {
      if (!/^\d{1,10}$/.test(key) || Number(key) > MAX_TOKEN_ID) {
        ctx.addIssue({ code: "custom", path: [key], message: "keys must be token ids (integers from 0 to 2147483647)" });
        return z.NEVER;
      }
      if (typeof value !== "number" || !Number.isFinite(value) || value < -100 || value > 100) {
        ctx.addIssue({ code: "custom", path: [key], message: "bias must be a number between -100 and 100" });
        return z.NEVER;
      }
      pairs.push([Number(key), value]);
    }
    return pairs;
  })
  .nullish();

/** include_obfuscation: true (padding chunks against length side channels) is refused in httpFields; false asks for nothing. */
export const streamOptionsField = z
  .strictObject(
    {
      include_usage: z.boolean({ error: "expected a boolean" }).nullish(),
      include_obfuscation: z.boolean({ error: "expected a boolean" }).nullish(),
    },
    { error: "expected an object" },
  )
  .nullish();

/** Sampling fields shared by both endpoints, with our documented ranges. */
export function samplingShape() {
  return {
    temperature: boundedNumber(0, 2).nullish(),
    top_p: boundedNumber(0, 1, { minExclusive: true }).nullish(),
    // 0 is "off"; -1 is accepted as "off" too because vLLM clients send it.
    top_k: z
      .number({ error: "expected an integer >= 0 (0 or -1 disables top_k)" })
      .int({ error: "expected an integer >= 0 (0 or -1 disables top_k)" })
      .gte(-1, { error: "expected an integer >= 0 (0 or -1 disables top_k)" })
      .lte(1_000_000_000, { error: "expected an integer >= 0 (0 or -1 disables top_k)" })
      .nullish(),
    min_p: boundedNumber(0, 1).nullish(),
    presence_penalty: boundedNumber(-2, 2).nullish(),
    frequency_penalty: boundedNumber(-2, 2).nullish(),
    // Above 10 every seen token is effectively banned; larger values only signal a client bug.
    repetition_penalty: boundedNumber(0, 10, { minExclusive: true }).nullish(),
    seed: z
      .number({ error: "expected an integer" })
      .int({ error: "expected an integer in the safe integer range" })
      .nullish(),
    logit_bias: logitBiasField,
  };
}
