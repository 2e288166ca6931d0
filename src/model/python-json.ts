/**
 * JSON as Python's json.dumps writes it by default (", " and ": " between
 * items), which is what transformers' `tojson` and @huggingface/jinja's
 * write: text shown to a model in the layout its templates used in training.
 * Non-ASCII stays as it is (ensure_ascii=False, as transformers' tojson).
 */
import type { JsonValue } from "../domain.ts";

export function pythonJson(value: JsonValue): string {
  if (value === null || typeof value !== "object") return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(pythonJson).join(", ")}]`;
  const entries = Object.entries(value).filter(([, v]) => v !== undefined);
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}: ${pythonJson(v)}`).join(", ")}}`;
}
