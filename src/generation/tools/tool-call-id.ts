/**
 * Ids for the calls the server returns. OpenAI's are "call_" and 24
 * letters or digits. Mistral's chat templates refuse any id in the history
 * that is not exactly 9 letters or digits (raise_exception), so calls of a
 * model that writes the Mistral format get such ids: sent back as they
 * came, they must render.
 */
import { randomInt } from "node:crypto";
import type { ToolCallFormat } from "./tool-call-format.ts";

const ALPHANUMERIC = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

function alphanumeric(length: number): string {
  let id = "";
  for (let i = 0; i < length; i++) id += ALPHANUMERIC[randomInt(ALPHANUMERIC.length)];
  return id;
}

export function newToolCallId(format: ToolCallFormat): string {
  return format === "mistral" ? alphanumeric(9) : `call_${alphanumeric(24)}`;
}
