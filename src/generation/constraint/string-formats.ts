/**
 * JSON Schema `format` keywords as patterns in the regex subset, so a format
 * constrains generation exactly like a `pattern` does.
 *
 * Each pattern's language is a subset of what ajv-formats accepts in "full"
 * mode, so everything generated validates downstream; where ajv is looser
 * than what clients expect (lowercase `t`/`z`, `+hhmm` offsets, `urn:uuid:`
 * prefixes, unusual e-mail local parts) the pattern picks the common form:
 *
 * - date: RFC 3339 full-date with real month lengths; Feb 29 only in leap
 *   years (divisible by 4, centuries only when divisible by 400).
 * - time: hh:mm:ss with hours 00-23, seconds 00-59 (no leap second), an
 *   optional fraction, and a required `Z` or `±hh:mm` offset (hh 00-23).
 * - date-time: date `T` time.
 * - uuid: 8-4-4-4-12 hex digits, either case, no `urn:uuid:` prefix.
 * - email: dot-separated atoms of [A-Za-z0-9_%+-] before the `@`; domain of
 *   dot-separated LDH labels (1-63 characters, no leading or trailing
 *   hyphen) ending in an all-letter top-level label of 2-63 letters.
 */

/** A `format` value that has no pattern here; callers answer 400. */
export class UnsupportedFormatError extends Error {
  constructor(readonly format: string) {
    super(`unsupported string format ${JSON.stringify(format)}; supported: ${SUPPORTED_STRING_FORMATS.join(", ")}`);
    this.name = "UnsupportedFormatError";
  }
}

const DAY_OF_31_DAY_MONTH = "(?:0[1-9]|[12]\\d|3[01])";
const DAY_OF_30_DAY_MONTH = "(?:0[1-9]|[12]\\d|30)";
const DAY_OF_FEBRUARY = "(?:0[1-9]|1\\d|2[0-8])";
/** Years divisible by 4 but not by 100, or divisible by 400 (0000 included, as ajv-formats computes it). */
const LEAP_YEAR = "(?:\\d\\d(?:0[48]|[2468][048]|[13579][26])|(?:[02468][048]|[13579][26])00)";

const FULL_DATE =
  "(?:" +
  [
    `\\d{4}-(?:0[13578]|1[02])-${DAY_OF_31_DAY_MONTH}`,
    `\\d{4}-(?:0[469]|11)-${DAY_OF_30_DAY_MONTH}`,
    `\\d{4}-02-${DAY_OF_FEBRUARY}`,
    `${LEAP_YEAR}-02-29`,
  ].join("|") +
  ")";

const HOUR = "(?:[01]\\d|2[0-3])";
const MINUTE_OR_SECOND = "[0-5]\\d";
const FULL_TIME = `${HOUR}:${MINUTE_OR_SECOND}:${MINUTE_OR_SECOND}(?:\\.\\d+)?(?:Z|[+-]${HOUR}:${MINUTE_OR_SECOND})`;

const HEX = "[0-9A-Fa-f]";
const UUID = `${HEX}{8}-${HEX}{4}-${HEX}{4}-${HEX}{4}-${HEX}{12}`;

const LOCAL_ATOM = "[A-Za-z0-9_%+-]+";
const DOMAIN_LABEL = "[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?";
const TOP_LEVEL_LABEL = "[A-Za-z]{2,63}";
const EMAIL = `${LOCAL_ATOM}(?:\\.${LOCAL_ATOM})*@(?:${DOMAIN_LABEL}\\.)+${TOP_LEVEL_LABEL}`;

const FORMAT_PATTERNS = {
  date: `^${FULL_DATE}$`,
  time: `^${FULL_TIME}$`,
  "date-time": `^${FULL_DATE}T${FULL_TIME}$`,
  uuid: `^${UUID}$`,
  email: `^${EMAIL}$`,
} as const;

export type StringFormat = keyof typeof FORMAT_PATTERNS;

export const SUPPORTED_STRING_FORMATS: readonly StringFormat[] = Object.keys(FORMAT_PATTERNS) as StringFormat[];

export function isSupportedStringFormat(format: string): format is StringFormat {
  return Object.hasOwn(FORMAT_PATTERNS, format);
}

/** The anchored pattern (regex subset) for a format; throws UnsupportedFormatError for any other name. */
export function formatPattern(format: string): string {
  if (!isSupportedStringFormat(format)) throw new UnsupportedFormatError(format);
  return FORMAT_PATTERNS[format];
}
