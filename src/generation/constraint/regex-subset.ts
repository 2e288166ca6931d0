/**
 * JSON Schema `pattern` as a deterministic automaton over Unicode code points.
 *
 * The subset is the part of ECMAScript regex syntax (with the `u` flag, as
 * ajv compiles patterns) that denotes a regular language:
 * - literals (any code point, astral ones included) and escapes: \d \D \w
 *   \W \s \S, \n \r \t \f \v \0, \cX, \xHH, \uXXXX (an escaped surrogate
 *   pair is one code point), \u{X...}, and escaped syntax characters
 *   ^ $ \ . * + ? ( ) [ ] { } | / -;
 * - `.` (any code point but \n \r U+2028 U+2029);
 * - classes [...] and [^...] with ranges and class escapes, \b = U+0008 there;
 * - groups (...) and (?:...), alternation |;
 * - quantifiers * + ? {n} {n,} {n,m}, bounds up to 1000, lazy forms alike;
 * - `^` at the start and `$` at the end of a top-level alternative.
 * Everything else (backreferences, lookaround, word boundaries, named
 * groups, inline modifiers, property escapes, anchors elsewhere, lone
 * `{` `}` `]`) throws UnsupportedPatternError naming the construct and its
 * UTF-16 offset, so the caller can reject the schema instead of silently
 * constraining to something else. The one leniency against `u` mode is
 * `\-` outside a class, accepted as "-". A pattern has no flags.
 *
 * JSON Schema patterns are searches, not full matches: `abc` accepts any
 * string containing "abc". Each top-level alternative without `^` gets a
 * leading any-code-point loop and each without `$` a trailing one. Those
 * loops accept every code point, line terminators included, because the
 * search may skip over anything.
 *
 * This file is the entry point and the top of the pipeline; the stages live
 * in their own modules: pattern-cursor.ts, regex-class-escapes.ts and
 * regex-parser.ts (syntax tree), regex-nfa.ts (Thompson NFA), lazy-dfa.ts
 * (lazy determinization), product-automaton.ts (intersection), with
 * code-point-sets.ts, code-point-automaton.ts and pattern-errors.ts shared.
 */
import { DEAD } from "./byte-terminal.ts";
import { MAX_CODE_POINT, type AutomatonOptions, type CodePointAutomaton } from "./code-point-automaton.ts";
import { ANY } from "./code-point-sets.ts";
import { LazyDfa } from "./lazy-dfa.ts";
import { ProductAutomaton } from "./product-automaton.ts";
import { Nfa } from "./regex-nfa.ts";
import { parsePattern } from "./regex-parser.ts";

export { MAX_CODE_POINT, type AutomatonOptions, type CodePointAutomaton } from "./code-point-automaton.ts";
export { PatternTooComplexError, UnsupportedPatternError } from "./pattern-errors.ts";
export { MAX_QUANTIFIER_BOUND } from "./regex-parser.ts";
export { MAX_NFA_NODES } from "./regex-nfa.ts";

/** Default cap on DFA states; subset construction can explode (e.g. `a.{20}` unanchored). */
export const DEFAULT_MAX_DFA_STATES = 5000;

/**
 * Compiles a JSON Schema `pattern` (search semantics, as ajv's `new
 * RegExp(pattern, "u").test(s)`). Throws UnsupportedPatternError for syntax
 * outside the subset and PatternTooComplexError for size limits; the DFA
 * itself grows lazily, so the state limit can also be hit later in `next`.
 */
export function compilePattern(source: string, options: AutomatonOptions = {}): CodePointAutomaton {
  const alternatives = parsePattern(source);
  const nfa = new Nfa();
  const start = nfa.node();
  const final = nfa.node();
  const prefixLoop = nfa.node();
  const suffixLoop = nfa.node();
  // The loops are added before the bodies so every body node gets a higher id; order is irrelevant to correctness.
  nfa.link(suffixLoop, final);
  const suffixNext = nfa.chars(suffixLoop, ANY);
  nfa.link(suffixNext, suffixLoop);
  const prefixNext = nfa.chars(prefixLoop, ANY);
  nfa.link(prefixNext, prefixLoop);
  // Without this guard an all-anchored pattern would keep a useless loop alive in every state and never reach DEAD.
  if (alternatives.some((alternative) => !alternative.anchoredStart)) nfa.link(start, prefixLoop);
  for (const alternative of alternatives) {
    const entry = nfa.node();
    nfa.link(alternative.anchoredStart ? start : prefixLoop, entry);
    const exit = nfa.compile(alternative.body, entry);
    nfa.link(exit, alternative.anchoredEnd ? final : suffixLoop);
  }
  return new LazyDfa(nfa, start, final, suffixLoop, options.maxStates ?? DEFAULT_MAX_DFA_STATES);
}

/** The automaton of "every string": one state, one class. */
export function anyStringAutomaton(): CodePointAutomaton {
  return {
    start: 0,
    classCount: 1,
    classOf: () => 0,
    classLow: () => 0,
    classHigh: () => MAX_CODE_POINT,
    next: () => 0,
    isAccepting: () => true,
  };
}

/** Strings accepted by both automata (e.g. a `pattern` and a `format` on one schema). */
export function intersectAutomata(
  left: CodePointAutomaton,
  right: CodePointAutomaton,
  options: AutomatonOptions = {},
): CodePointAutomaton {
  return new ProductAutomaton(left, right, options.maxStates ?? DEFAULT_MAX_DFA_STATES);
}

/** Runs the automaton over the code points of `text`. */
export function automatonAccepts(automaton: CodePointAutomaton, text: string): boolean {
  let state = automaton.start;
  for (const ch of text) {
    state = automaton.next(state, automaton.classOf(ch.codePointAt(0) as number));
    if (state === DEAD) return false;
  }
  return automaton.isAccepting(state);
}
