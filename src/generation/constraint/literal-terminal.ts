/** A terminal that matches one fixed byte string: keys, punctuation, enum values. */
import { DEAD, type ByteTerminal } from "./byte-terminal.ts";

export function literalTerminal(bytes: Uint8Array, label = `literal(${new TextDecoder().decode(bytes)})`): ByteTerminal {
  if (bytes.length === 0) throw new Error("a literal terminal needs at least one byte");
  return {
    initial: 0,
    label,
    // The state is the number of bytes matched so far.
    step: (state, byte) => (state < bytes.length && bytes[state] === byte ? state + 1 : DEAD),
    isComplete: (state) => state === bytes.length,
  };
}
