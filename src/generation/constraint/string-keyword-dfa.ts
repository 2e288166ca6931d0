/**
 * The WritableDfa for a string constraint's `pattern` and `format`
 * (intersected when both apply), with compile and size errors turned into
 * StringConstraintError, and a small cache because schemas repeat across
 * requests. Its own file so the entry point only validates and assembles.
 */
import {
  anyStringAutomaton,
  compilePattern,
  intersectAutomata,
  type CodePointAutomaton,
} from "./regex-subset.ts";
import { BMP_SCALARS, overlapSize, type Intervals } from "./scalar-intervals.ts";
import { STRING_TERMINAL_LIMITS, StringConstraintError, type StringConstraint } from "./string-constraint.ts";
import { formatPattern } from "./string-formats.ts";
import { WritableDfa } from "./writable-dfa.ts";

function compileKeyword(keyword: "pattern" | "format", source: string): CodePointAutomaton {
  try {
    const pattern = keyword === "format" ? formatPattern(source) : source;
    return compilePattern(pattern, { maxStates: STRING_TERMINAL_LIMITS.maxAutomatonStates });
  } catch (error) {
    throw new StringConstraintError(keyword, `${keyword} ${JSON.stringify(source)}: ${(error as Error).message}`, { cause: error });
  }
}

/** Built DFAs by (pattern, format, asciiOnly), oldest evicted first: schemas repeat across requests and a build costs milliseconds. */
const dfaCache = new Map<string, WritableDfa>();
const DFA_CACHE_ENTRIES = 64;

export function writableDfaFor(c: StringConstraint, writable: Intervals): WritableDfa {
  const key = JSON.stringify([c.pattern ?? null, c.format ?? null, writable === BMP_SCALARS]);
  const cached = dfaCache.get(key);
  if (cached !== undefined) return cached;
  const parts: CodePointAutomaton[] = [];
  if (c.pattern !== undefined) parts.push(compileKeyword("pattern", c.pattern));
  if (c.format !== undefined) parts.push(compileKeyword("format", c.format));
  const automaton =
    parts.length === 0
      ? anyStringAutomaton()
      : parts.length === 1
        ? parts[0]
        : intersectAutomata(parts[0], parts[1], { maxStates: STRING_TERMINAL_LIMITS.maxAutomatonStates });
  const writableClass = new Uint8Array(automaton.classCount);
  for (let k = 0; k < automaton.classCount; k++) {
    writableClass[k] = overlapSize(automaton.classLow(k), automaton.classHigh(k), writable) > 0 ? 1 : 0;
  }
  let dfa: WritableDfa;
  try {
    // The lazy DFA grows here, so its state limit is hit here.
    dfa = new WritableDfa(automaton, writableClass);
  } catch (error) {
    const keyword = c.pattern !== undefined ? "pattern" : "format";
    throw new StringConstraintError(keyword, `${keyword} ${JSON.stringify(c[keyword])}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  if (dfaCache.size >= DFA_CACHE_ENTRIES) dfaCache.delete(dfaCache.keys().next().value as string);
  dfaCache.set(key, dfa);
  return dfa;
}
