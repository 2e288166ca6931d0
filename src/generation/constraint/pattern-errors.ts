/**
 * The two ways compiling a `pattern` can fail. They live on their own
 * because the parser, the NFA builder and both DFAs throw them, and callers
 * (the string terminal, tests) catch them without needing any of those.
 */

/** The pattern uses syntax outside the supported subset, or is not a valid pattern at all. */
export class UnsupportedPatternError extends Error {
  constructor(
    readonly construct: string,
    readonly offset: number,
    readonly pattern: string,
  ) {
    super(`unsupported or invalid regex construct ${construct} at offset ${offset} in pattern ${JSON.stringify(pattern)}`);
    this.name = "UnsupportedPatternError";
  }
}

/** The pattern is in the subset but its automaton would exceed a size limit. */
export class PatternTooComplexError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "PatternTooComplexError";
  }
}
