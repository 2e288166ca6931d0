/**
 * What makes a scanned JSON object a tool call: a string "name" that is one
 * of the offered functions, and an arguments object under "arguments" or
 * "parameters" (models trained on one format drift to the other's key; an
 * absent key means no arguments). Other members (a Mistral "id") are
 * ignored.
 */
import { decodeJsonString, type JsonObjectScanner, type ScannedMember } from "./json-object-scanner.ts";

const ARGUMENT_KEYS: readonly string[] = ["arguments", "parameters"];

/** Arguments text of a call whose object has no arguments member. */
export const NO_ARGUMENTS = "{}";

export interface ValidCall {
  name: string;
  /** The arguments exactly as the model wrote them. */
  arguments: string;
}

/** The "name" member once its value is complete: the decoded string, or null when it is not a string. undefined: not complete yet. */
export function scannedName(scanner: JsonObjectScanner): string | null | undefined {
  const member = scanner.members.find((m) => m.key === "name");
  if (member === undefined || member.end === null) return undefined;
  return decodeJsonString(scanner.text.slice(member.start, member.end));
}

/** The first arguments member (either key), complete or still arriving. */
export function argumentsMember(scanner: JsonObjectScanner): ScannedMember | undefined {
  return scanner.members.find((m) => m.key !== null && ARGUMENT_KEYS.includes(m.key));
}

/** The call a complete object makes, or null when it is not a valid call to one of `tools`. */
export function validateCall(scanner: JsonObjectScanner, tools: ReadonlySet<string>): ValidCall | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(scanner.text);
  } catch {
    return null;
  }
  if (!isPlainObject(parsed)) return null;
  // The streamed path reads the first "name", JSON.parse keeps the last: with two, the call is ambiguous.
  if (scanner.members.filter((m) => m.key === "name").length !== 1) return null;
  const name = parsed.name;
  if (typeof name !== "string" || !tools.has(name)) return null;
  const present = ARGUMENT_KEYS.filter((key) => Object.hasOwn(parsed, key));
  // With both keys the model's intent is unclear; JSON.parse keeps the last of duplicate keys, the scanner the first.
  if (present.length > 1 || scanner.members.filter((m) => m.key !== null && ARGUMENT_KEYS.includes(m.key)).length > 1) return null;
  if (present.length === 0) return { name, arguments: NO_ARGUMENTS };
  if (!isPlainObject(parsed[present[0]])) return null;
  const member = argumentsMember(scanner);
  if (member === undefined || member.end === null) return null;
  return { name, arguments: scanner.text.slice(member.start, member.end) };
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
