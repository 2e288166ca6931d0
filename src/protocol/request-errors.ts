/**
 * Turns validation failures into the 400 ApiError the client sees, with
 * `param` as the dotted/bracketed path (`messages[0].content`) OpenAI uses.
 */
import type { z } from "zod";
import { invalidRequest, unsupportedField, type ApiError } from "../errors.ts";

export function formatParam(path: ReadonlyArray<PropertyKey>): string {
  let param = "";
  for (const segment of path) {
    if (typeof segment === "number") param += `[${segment}]`;
    else param += param === "" ? String(segment) : `.${String(segment)}`;
  }
  return param;
}

/**
 * When every branch of a union fails, the branch that got past the type check
 * (its issue has a path inside the value) says what is really wrong, e.g.
 * `stop[1]` rather than "stop: invalid". Zod gives branch paths relative to
 * the union, so they are joined here.
 */
function mostSpecific(issue: z.core.$ZodIssue): z.core.$ZodIssue {
  if (issue.code !== "invalid_union") return issue;
  for (const branch of issue.errors) {
    const inner = branch.find((candidate) => candidate.path.length > 0);
    if (inner !== undefined) return mostSpecific({ ...inner, path: [...issue.path, ...inner.path] } as z.core.$ZodIssue);
  }
  return issue;
}

/** The first zod issue as an ApiError; one precise message beats a list. */
export function zodErrorToApiError(error: z.ZodError): ApiError {
  const first = error.issues[0];
  if (first === undefined) return invalidRequest("Invalid request body.");
  const issue = mostSpecific(first);
  if (issue.code === "unrecognized_keys") {
    const param = formatParam([...issue.path, issue.keys[0] ?? ""]);
    return invalidRequest(`Unrecognized request argument supplied: ${param}`, param, "unknown_parameter");
  }
  if (issue.path.length === 0) return invalidRequest("The request body must be a JSON object.");
  const param = formatParam(issue.path);
  return invalidRequest(`Invalid value for '${param}': ${issue.message}.`, param, "invalid_value");
}

/** Absent, null or an empty array: the client did not ask for the feature. */
const isUnset = (value: unknown): boolean => value === undefined || value === null || (Array.isArray(value) && value.length === 0);

/**
 * Known OpenAI fields we do not implement. Each entry says which values are
 * harmless (mean "off"); anything else is a 400 naming the field, never
 * silently ignored.
 */
export type UnsupportedFields = Record<string, (value: unknown, body: Record<string, unknown>) => boolean>;

export const acceptOnlyUnset = (value: unknown): boolean => isUnset(value);

export function rejectUnsupported(body: Record<string, unknown>, fields: UnsupportedFields, pathPrefix = ""): void {
  for (const [name, isHarmless] of Object.entries(fields)) {
    if (!Object.hasOwn(body, name)) continue;
    if (!isUnset(body[name]) && !isHarmless(body[name], body)) throw unsupportedField(pathPrefix + name);
  }
}

export const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);
