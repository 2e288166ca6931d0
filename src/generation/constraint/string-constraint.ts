/**
 * The vocabulary of a JSON string constraint: the keywords it takes, the
 * error a caller turns into a 400, and the size limits that keep building
 * a terminal bounded. Separate from the terminal because the analyses it is
 * built from (completion lengths, the keyword DFA) check these limits and
 * throw this error too.
 */
export interface StringConstraint {
  readonly minLength?: number;
  readonly maxLength?: number;
  readonly pattern?: string;
  readonly format?: string;
  /** Decoded values that are not allowed (e.g. object keys already present). */
  readonly exclude?: readonly string[];
  /** Only bytes < 0x80 may be written raw; other characters need \uXXXX. */
  readonly asciiOnly?: boolean;
}

/** The keyword a StringConstraintError is about, for the caller's error path. */
export type StringConstraintKeyword = "minLength" | "maxLength" | "pattern" | "format" | "exclude";

/** The constraint cannot be served: invalid keyword values, unsupported pattern or format, or a size limit. Callers answer 400. */
export class StringConstraintError extends Error {
  constructor(
    readonly keyword: StringConstraintKeyword,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "StringConstraintError";
  }
}

export const STRING_TERMINAL_LIMITS = {
  /** minLength / maxLength above this are refused when a pattern or format applies. */
  maxLengthWithPattern: 10_000,
  /** DFA states for pattern and format together. */
  maxAutomatonStates: 5000,
  /** Work (state x layer edge visits) for the minLength analysis of a pattern. */
  maxLengthAnalysisWork: 20_000_000,
  /** Code points over all `exclude` strings. */
  maxExcludedCodePoints: 100_000,
  /** Code points in one `exclude` string. */
  maxExcludedStringLength: 1000,
} as const;
