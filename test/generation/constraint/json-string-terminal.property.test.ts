/**
 * jsonStringTerminal against independent references, on random texts and
 * random constraints.
 *
 * Differential: the terminal accepts a byte string iff it is valid UTF-8
 * (fatal TextDecoder), the text is exactly one JSON string token
 * (JSON.parse, no surrounding whitespace), it has no escaped surrogate (the
 * terminal's documented restriction), only ASCII bytes when asciiOnly, and
 * the decoded value passes ajv + ajv-formats (full) for the length, pattern
 * and format keywords and is not excluded.
 *
 * Liveness: from the initial state, a random walk over bytes with non-DEAD
 * successors never meets a dead end, and a breadth-first search from
 * wherever it stops finds a completion, which the reference then accepts.
 */
import AjvModule from "ajv";
import addFormatsModule from "ajv-formats";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { DEAD, type ByteTerminal } from "../../../src/generation/constraint/byte-terminal.ts";
import { jsonStringTerminal, type StringConstraint } from "../../../src/generation/constraint/json-string-terminal.ts";
import { formatPattern, SUPPORTED_STRING_FORMATS } from "../../../src/generation/constraint/string-formats.ts";
import { SeededRandom } from "../../../src/generation/rng.ts";

const ajv = new AjvModule.default({ strict: false });
addFormatsModule.default(ajv, { mode: "full" });
const validators = new Map<string, (value: unknown) => boolean>();

function keywordsValid(c: StringConstraint, value: string): boolean {
  const schema = { type: "string", minLength: c.minLength, maxLength: c.maxLength, pattern: c.pattern, format: c.format };
  const key = JSON.stringify(schema);
  let validate = validators.get(key);
  if (validate === undefined) {
    validate = ajv.compile(JSON.parse(key) as object);
    validators.set(key, validate);
  }
  return validate(value);
}

const fatalDecoder = new TextDecoder("utf-8", { fatal: true });

/** The reference verdict on a byte string, written without the terminal's machinery. */
function referenceAccepts(c: StringConstraint, bytes: Uint8Array): boolean {
  if (c.asciiOnly === true && bytes.some((b) => b >= 0x80)) return false;
  let text: string;
  try {
    text = fatalDecoder.decode(bytes);
  } catch {
    return false;
  }
  if (/^[ \t\n\r]|[ \t\n\r]$/.test(text)) return false;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return false;
  }
  if (typeof value !== "string") return false;
  for (let i = 0; i < text.length; i++) {
    if (text[i] !== "\\") continue;
    if (text[i + 1] === "u") {
      const unit = Number.parseInt(text.slice(i + 2, i + 6), 16);
      if (unit >= 0xd800 && unit <= 0xdfff) return false;
    }
    i++;
  }
  if (c.exclude?.includes(value)) return false;
  return keywordsValid(c, value);
}

function terminalAccepts(terminal: ByteTerminal, bytes: Uint8Array): boolean {
  let state = terminal.initial;
  for (const byte of bytes) {
    if (state === DEAD) return false;
    state = terminal.step(state, byte);
  }
  return state !== DEAD && terminal.isComplete(state);
}

// ---------------------------------------------------------------------------
// Texts: values over a small alphabet, each character written raw or escaped,
// plus fragments that are invalid JSON or invalid UTF-8.

const encoder = new TextEncoder();
const CHARACTERS = ["a", "b", "z", "1", "7", "-", ".", "@", " ", "é", "中", "😀", "\u2028", "\u007f", "\n", "\t", '"', "\\", "/", "\u0001"];
const SHORT_ESCAPES: Record<string, string> = { '"': '\\"', "\\": "\\\\", "/": "\\/", "\n": "\\n", "\t": "\\t", "\b": "\\b", "\f": "\\f", "\r": "\\r" };

/** One character as JSON text, in one of its encodings; `choice` picks which (invalid raw forms included on purpose). */
function writeCharacter(ch: string, choice: number): string {
  const cp = ch.codePointAt(0) as number;
  const hex = cp.toString(16).padStart(4, "0");
  switch (choice % 4) {
    case 0:
      return ch;
    case 1:
      return cp <= 0xffff ? `\\u${hex}` : ch;
    case 2:
      return cp <= 0xffff ? `\\u${hex.toUpperCase()}` : ch;
    default:
      return SHORT_ESCAPES[ch] ?? ch;
  }
}

const BAD_FRAGMENTS: readonly (readonly number[])[] = [
  [0x22],
  [0x5c],
  [0x0a],
  [0x01],
  [...encoder.encode("\\x41")],
  [...encoder.encode("\\u12")],
  [...encoder.encode("\\ud83d\\ude00")],
  [...encoder.encode("\\uDC00")],
  [0xc0, 0x80],
  [0xc1, 0xbf],
  [0xe0, 0x9f, 0xbf],
  [0xed, 0xa0, 0x80],
  [0xf4, 0x90, 0x80, 0x80],
  [0xf5, 0x80, 0x80, 0x80],
  [0xe2, 0x82],
  [0x80],
  [0xff],
  [0x20],
];

const validFragment = fc.tuple(fc.constantFrom(...CHARACTERS), fc.nat(3)).map(([ch, choice]) => [...encoder.encode(writeCharacter(ch, choice))]);
const fragment = fc.oneof({ arbitrary: validFragment, weight: 12 }, { arbitrary: fc.constantFrom(...BAD_FRAGMENTS), weight: 1 });

const jsonText = fc
  .tuple(fc.array(fragment, { maxLength: 8 }), fc.constantFrom("closed", "closed", "closed", "closed", "open", "trailing"))
  .map(([fragments, ending]) => {
    const bytes = [0x22, ...fragments.flat()];
    if (ending !== "open") bytes.push(0x22);
    if (ending === "trailing") bytes.push(0x20);
    return Uint8Array.from(bytes);
  });

// ---------------------------------------------------------------------------
// Constraints.

const PATTERNS = [
  "^[a-z]*$",
  "a",
  "^(a|é)+$",
  "\\d",
  "^.{2,4}$",
  "😀",
  '^[^"\\\\]*$',
  "^\\s*\\S",
  "^(?:ab|ba)*$",
  "-$",
  "^[\\u0000-\\u007f]*$",
  "\\n",
  "^$",
  "^[^a]{1,3}$",
  "^(?:[a-z]+\\.)*[a-z]+$",
  "^\\w+@\\w+\\.[a-z]{2,}$",
];

/** Present about one time in three, so most constraints have one or two keywords and still accept something. */
const sometimes = <T>(arbitrary: fc.Arbitrary<T>): fc.Arbitrary<T | undefined> =>
  fc.oneof({ arbitrary: fc.constant(undefined), weight: 2 }, { arbitrary, weight: 1 });

const constraint: fc.Arbitrary<StringConstraint> = fc
  .record({
    minLength: sometimes(fc.nat(4)),
    maxLength: sometimes(fc.nat(6)),
    pattern: sometimes(fc.constantFrom(...PATTERNS)),
    exclude: sometimes(
      fc.array(fc.array(fc.constantFrom("a", "b", "é", "😀", "\n", '"'), { maxLength: 3 }).map((c) => c.join("")), { maxLength: 3 }),
    ),
    asciiOnly: sometimes(fc.constant(true)),
  })
  .map((c) => Object.fromEntries(Object.entries(c).filter(([, v]) => v !== undefined)) as StringConstraint);

describe("jsonStringTerminal against JSON.parse and ajv", () => {
  it("accepts exactly the texts the reference accepts", () => {
    let acceptedCount = 0;
    fc.assert(
      fc.property(constraint, fc.array(jsonText, { minLength: 1, maxLength: 15 }), (c, texts) => {
        const terminal = jsonStringTerminal(c);
        for (const bytes of texts) {
          const expected = referenceAccepts(c, bytes);
          if (expected) acceptedCount++;
          expect(terminalAccepts(terminal, bytes), `${JSON.stringify(c)} on ${new TextDecoder().decode(bytes)} [${bytes}]`).toBe(expected);
        }
      }),
      { numRuns: 400, seed: 31 },
    );
    expect(acceptedCount).toBeGreaterThan(300);
  });

  it("matches RegExp with the u flag for random patterns, through the trimmed and minimized DFA", () => {
    const atom = fc.constantFrom("a", "b", "é", "😀", ".", "[^a]", "\\d", "[ab]", "\\n", '"');
    const { node } = fc.letrec<{ node: string }>((tie) => ({
      node: fc.oneof(
        { depthSize: "small" },
        atom,
        fc.tuple(tie("node"), fc.constantFrom("*", "+", "?", "{2}", "{1,3}")).map(([item, q]) => `(?:${item})${q}`),
        fc.array(tie("node"), { minLength: 2, maxLength: 3 }).map((items) => items.join("")),
        fc.array(tie("node"), { minLength: 2, maxLength: 3 }).map((items) => `(?:${items.join("|")})`),
      ),
    }));
    const pattern = fc.tuple(fc.boolean(), node, fc.boolean()).map(([start, body, end]) => `${start ? "^" : ""}${body}${end ? "$" : ""}`);
    const value = fc.array(fc.constantFrom("a", "b", "é", "😀", "1", "\n", '"'), { maxLength: 6 });
    fc.assert(
      fc.property(pattern, fc.option(fc.nat(5)), fc.array(fc.tuple(value, fc.array(fc.nat(3), { minLength: 6, maxLength: 6 })), { maxLength: 10 }), (source, maxLength, values) => {
        const c: StringConstraint = maxLength === null ? { pattern: source } : { pattern: source, maxLength };
        const terminal = jsonStringTerminal(c);
        const reference = new RegExp(source, "u");
        for (const [chars, choices] of values) {
          const bytes = encoder.encode(`"${chars.map((ch, i) => writeCharacter(ch, choices[i])).join("")}"`);
          const text = chars.join("");
          const expected = reference.test(text) && (maxLength === null || [...text].length <= maxLength);
          expect(terminalAccepts(terminal, bytes), `${source} ${JSON.stringify(text)}`).toBe(expected && referenceAccepts(c, bytes));
        }
      }),
      { numRuns: 300, seed: 36 },
    );
  });

  /** Inside the documented subset of each format (string-formats.test.ts checks the subset itself against ajv-formats). */
  const commonForm = (format: string, value: string): boolean => new RegExp(formatPattern(format), "u").test(value);

  it("accepts exactly the format values ajv-formats accepts in the common form, however they are escaped", () => {
    const digit = fc.integer({ min: 0, max: 9 }).map(String);
    const digits = (n: number): fc.Arbitrary<string> => fc.array(digit, { minLength: n, maxLength: n }).map((d) => d.join(""));
    const date = fc.tuple(fc.constantFrom("2024", "2023", "1900", "2000"), fc.constantFrom("01", "02", "04", "12", "13"), fc.constantFrom("01", "28", "29", "30", "31", "32"));
    const candidates = fc.oneof(
      date.map(([y, m, d]) => `${y}-${m}-${d}`),
      fc.tuple(date, fc.constantFrom("0", "1", "2"), digits(1), digits(2), fc.constantFrom("Z", "+01:00", "-23:59", "+24:00", "")).map(
        ([[y, m, d], h1, h2, s, zone]) => `${y}-${m}-${d}T${h1}${h2}:${s}:${s}${zone}`,
      ),
      fc.array(fc.constantFrom(..."0123456789abcdefABCDEF-"), { minLength: 34, maxLength: 38 }).map((c) => c.join("")),
      fc.tuple(fc.constantFrom("a", "a.b", ".a", "a..b", "x+y"), fc.constantFrom("b", "b-c", "-b", "1"), fc.constantFrom("com", "c", "io")).map(
        ([local, host, tld]) => `${local}@${host}.${tld}`,
      ),
    );
    fc.assert(
      fc.property(
        fc.constantFrom(...SUPPORTED_STRING_FORMATS),
        candidates,
        fc.array(fc.nat(3), { minLength: 40, maxLength: 40 }),
        fc.boolean(),
        (format, value, choices, asciiOnly) => {
          const c: StringConstraint = { format, asciiOnly };
          const bytes = encoder.encode(`"${[...value].map((ch, i) => writeCharacter(ch, choices[i])).join("")}"`);
          const ours = terminalAccepts(jsonStringTerminal(c), bytes);
          const theirs = referenceAccepts(c, bytes);
          if (ours) expect(theirs, `${format} ${value}`).toBe(true);
          if (commonForm(format, value)) expect(ours, `${format} ${value}`).toBe(theirs);
        },
      ),
      { numRuns: 1500, seed: 32 },
    );
  });
});

// ---------------------------------------------------------------------------
// Liveness.

/** Bytes with a non-DEAD successor. */
function liveBytes(terminal: ByteTerminal, state: number): number[] {
  const out: number[] = [];
  for (let byte = 0; byte < 256; byte++) if (terminal.step(state, byte) !== DEAD) out.push(byte);
  return out;
}

/** The shortest bytes from `state` to a complete state, by breadth-first search over state ids; null if none within the budget. */
function completion(terminal: ByteTerminal, state: number, budget: number): number[] | null {
  const parent = new Map<number, [number, number]>([[state, [-1, -1]]]);
  const queue = [state];
  for (let head = 0; head < queue.length && parent.size < budget; head++) {
    const from = queue[head];
    for (let byte = 0; byte < 256; byte++) {
      const to = terminal.step(from, byte);
      if (to === DEAD || parent.has(to)) continue;
      parent.set(to, [from, byte]);
      if (terminal.isComplete(to)) {
        const path: number[] = [];
        for (let at = to; at !== state; ) {
          const [previous, b] = parent.get(at) as [number, number];
          path.push(b);
          at = previous;
        }
        return path.reverse();
      }
      queue.push(to);
    }
  }
  return null;
}

describe("jsonStringTerminal liveness", () => {
  it("never leaves a dead end: random walks always have a way on, and a completion the reference accepts", () => {
    fc.assert(
      fc.property(
        fc.oneof(constraint, fc.record({ format: fc.constantFrom(...SUPPORTED_STRING_FORMATS), asciiOnly: fc.boolean() })),
        fc.integer({ min: 0, max: 0xffffffff }),
        fc.nat(24),
        (c, seed, steps) => {
          const terminal = jsonStringTerminal(c);
          if (terminal.initial === DEAD) return;
          const random = new SeededRandom(seed);
          const walked: number[] = [];
          let state = terminal.initial;
          for (let i = 0; i < steps && !terminal.isComplete(state); i++) {
            const options = liveBytes(terminal, state);
            expect(options.length, `dead end after [${walked}] under ${JSON.stringify(c)}`).toBeGreaterThan(0);
            const byte = options[Math.floor(random.next() * options.length)];
            walked.push(byte);
            state = terminal.step(state, byte);
          }
          const rest = terminal.isComplete(state) ? [] : completion(terminal, state, 50_000);
          expect(rest, `no completion after [${walked}] under ${JSON.stringify(c)}`).not.toBeNull();
          const full = Uint8Array.from([...walked, ...(rest as number[])]);
          expect(referenceAccepts(c, full), `completion ${new TextDecoder().decode(full)} under ${JSON.stringify(c)}`).toBe(true);
        },
      ),
      { numRuns: 250, seed: 33 },
    );
  });

  it("has no dead end anywhere: every state reachable over all 256 bytes reaches a complete state (exhaustive)", () => {
    fc.assert(
      fc.property(fc.oneof(constraint, fc.record({ format: fc.constantFrom(...SUPPORTED_STRING_FORMATS), maxLength: fc.nat(12) })), (c) => {
        const terminal = jsonStringTerminal(c);
        if (terminal.initial === DEAD) return;
        const states = [terminal.initial];
        const predecessors = new Map<number, number[]>([[terminal.initial, []]]);
        for (let head = 0; head < states.length && states.length < 20_000; head++) {
          for (let byte = 0; byte < 256; byte++) {
            const next = terminal.step(states[head], byte);
            if (next === DEAD) continue;
            let list = predecessors.get(next);
            if (list === undefined) {
              list = [];
              predecessors.set(next, list);
              states.push(next);
            }
            list.push(states[head]);
          }
        }
        expect(states.length, JSON.stringify(c)).toBeLessThan(20_000);
        const completable = new Set(states.filter((s) => terminal.isComplete(s)));
        const stack = [...completable];
        while (stack.length > 0) {
          for (const p of predecessors.get(stack.pop() as number) as number[]) {
            if (!completable.has(p)) {
              completable.add(p);
              stack.push(p);
            }
          }
        }
        expect(states.filter((s) => !completable.has(s)), JSON.stringify(c)).toEqual([]);
      }),
      { numRuns: 150, seed: 35 },
    );
  });

  it("has DEAD initial states only for constraints with no value at all", () => {
    // Empty languages among small constraints: the reference agrees no short value exists.
    const values = ["", "a", "b", "é", "ab", "aa", "😀", "a\n", "abc", "a-b", "1", "ab.cd"];
    fc.assert(
      fc.property(constraint, (c) => {
        const terminal = jsonStringTerminal(c);
        if (terminal.initial !== DEAD) return;
        for (const value of values) expect(referenceAccepts(c, encoder.encode(JSON.stringify(value))), `${JSON.stringify(c)} ${value}`).toBe(false);
      }),
      { numRuns: 300, seed: 34 },
    );
  });
});
