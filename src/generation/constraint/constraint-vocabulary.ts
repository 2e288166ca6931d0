/**
 * What a model's vocabulary allows for constrained decoding. The guarantee
 * that a constrained row never reaches a dead end needs every byte the
 * grammar may ask for next to be a token on its own: printable ASCII always
 * (JSON punctuation, digits, keys), and the UTF-8 lead and continuation
 * bytes when strings may hold raw non-ASCII text. A vocabulary without the
 * latter still works with non-ASCII written as \u escapes.
 */
import type { TokenBytes } from "./token-bytes.ts";

export interface StructuredOutputSupport {
  available: boolean;
  /** Why structured output is unavailable for this model ("" when it is available). */
  reason: string;
  /** Strings are written with ASCII bytes only (non-ASCII as \u escapes). */
  asciiOnly: boolean;
}

export function structuredOutputSupport(table: TokenBytes | null, unsupportedReason = ""): StructuredOutputSupport {
  if (!table) return { available: false, reason: unsupportedReason, asciiOnly: true };
  const missing: string[] = [];
  for (let b = 0x20; b <= 0x7e; b++) if (!table.singleByte[b]) missing.push(JSON.stringify(String.fromCharCode(b)));
  if (missing.length > 0) {
    return {
      available: false,
      reason: `the vocabulary has no single-character token for ${missing.slice(0, 5).join(", ")}${missing.length > 5 ? ", …" : ""}`,
      asciiOnly: true,
    };
  }
  let asciiOnly = false;
  for (let b = 0x80; b <= 0xf4; b++) if (b !== 0xc0 && b !== 0xc1 && !table.singleByte[b]) asciiOnly = true;
  return { available: true, reason: "", asciiOnly };
}
