import { existsSync, readFileSync } from "node:fs";
import { ModelLoadError } from "./model-load-error.ts";

export type JsonObject = Record<string, unknown>;

/** Reads a JSON object file; absent files give null, unreadable ones a ModelLoadError naming the file. */
export function readJsonObject(path: string): JsonObject | null {
  if (!existsSync(path)) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, "utf8"));
  } catch (error) {
    throw new ModelLoadError(path, `not valid JSON (${(error as Error).message})`);
  }
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
    throw new ModelLoadError(path, "expected a JSON object");
  }
  return parsed as JsonObject;
}

export function asObject(value: unknown): JsonObject | null {
  return value !== null && typeof value === "object" && !Array.isArray(value) ? (value as JsonObject) : null;
}

export function asNumber(value: unknown): number | null {
  return typeof value === "number" && Number.isFinite(value) ? value : null;
}

/** A token id field may be a number or a list of numbers (eos_token_id often is). */
export function asIdList(value: unknown): number[] | null {
  if (typeof value === "number" && Number.isInteger(value)) return [value];
  if (Array.isArray(value) && value.length > 0 && value.every((v) => typeof v === "number" && Number.isInteger(v))) {
    return value as number[];
  }
  return null;
}

/** Token fields in tokenizer_config.json are a string or an AddedToken-like {content}. */
export function asTokenText(value: unknown): string | null {
  if (typeof value === "string") return value;
  const obj = asObject(value);
  return obj && typeof obj.content === "string" ? obj.content : null;
}
