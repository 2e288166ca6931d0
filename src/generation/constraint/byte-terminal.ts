/**
 * The leaves of a constrained-decoding grammar: small deterministic automata
 * over bytes (a JSON string with its keywords, a JSON number with its bounds,
 * a literal). The grammar (structure, unions, recursion) lives above them and
 * only asks three things: where to start, where one more byte leads, and
 * whether the bytes so far form a complete value.
 *
 * The contract that makes the whole engine dead-end free: every state a
 * terminal hands out (its `initial` and every result of `step`) other than
 * DEAD can still be completed by some bytes the terminal itself accepts.
 * A terminal whose language is empty has `initial === DEAD`.
 *
 * States are small non-negative integers so a caller can key caches and
 * typed arrays on them; a terminal with richer states interns them.
 * `step` runs hundreds of thousands of times per mask over a vocabulary
 * trie, so implementations memoize transitions.
 */
export const DEAD = -1;

export interface ByteTerminal {
  /** The state before any byte; DEAD when no value at all can be written. */
  readonly initial: number;
  /** The state after one more byte (0..255), or DEAD when no completion starts with the bytes so far plus this one. */
  step(state: number, byte: number): number;
  /** True when the bytes that led to `state` are a complete value. */
  isComplete(state: number): boolean;
  /** A short description for logs and errors, e.g. `string(maxLength=8)`. */
  readonly label: string;
  /**
   * Optional, for mask caches: a number shared by states that accept the
   * same byte strings of at most `horizon` bytes and are complete after the
   * same ones, so one cached mask serves them all. Without it a state is
   * its own class. A string's length is part of its state, so without this
   * every character of a long string would be a new mask to compute.
   */
  maskClass?(state: number, horizon: number): number;
}
