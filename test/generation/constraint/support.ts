/**
 * Helpers for the constraint tests: run a compiled grammar over a text, and
 * check values with ajv (the reference validator, a dev dependency).
 */
import { Ajv2020 } from "ajv/dist/2020.js";
import addFormats from "ajv-formats";
import { GrammarMatcher } from "../../../src/generation/constraint/matcher.ts";
import type { Grammar } from "../../../src/generation/constraint/grammar.ts";
import { compileSchema } from "../../../src/generation/constraint/schema-compiler.ts";
import { SchemaError } from "../../../src/generation/constraint/schema-error.ts";

/** True when the grammar accepts exactly this text as a complete value. */
export function grammarAccepts(grammar: Grammar, text: string): boolean {
  const matcher = new GrammarMatcher(grammar);
  let { stacks, accepting } = matcher.initial();
  for (const byte of new TextEncoder().encode(text)) {
    const next: number[] = [];
    matcher.step(stacks, byte, next);
    if (next.length === 0) return false;
    stacks = next;
    accepting = matcher.accepts(stacks);
  }
  return accepting;
}

const ajv = new Ajv2020({ strict: false, allErrors: false, validateFormats: true });
addFormats.default(ajv);

/** ajv's verdict on a value (draft 2020-12 semantics, formats in full mode). */
export function schemaValid(schema: unknown, value: unknown): boolean {
  const validate = ajv.compile(typeof schema === "boolean" ? schema : (schema as object));
  return validate(value) === true;
}

/** A reproducible uniform source in [0, 1) (xorshift32), so a failing walk can be replayed from its seed. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0 || 1;
  return () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 2 ** 32;
  };
}

/** Whether the engine compiles the schema; random bounds can contradict each other, and such schemas are refused (tested elsewhere). */
export function compilesSchema(schema: unknown): boolean {
  try {
    compileSchema(schema);
    return true;
  } catch (error) {
    if (error instanceof SchemaError) return false;
    throw error;
  }
}
