/**
 * ChoiceOutput: one choice's tokens to client events. EOS, stop strings,
 * max_tokens and cancel each end the choice once, with the right finish
 * reason, releasing held text unless it was a stop string.
 */
import { describe, expect, it } from "vitest";
import { ChoiceOutput, type ChoiceEvent } from "../../src/engine/choice-output.ts";
import type { TokenLogprob } from "../../src/domain.ts";

const EOS = 2;

const lp = (token: string, logprob = -0.5): TokenLogprob => ({
  token,
  logprob,
  top: [],
});

function choice(stop: string[] = [], maxTokens = Number.POSITIVE_INFINITY, index = 0): ChoiceOutput {
  const c = new ChoiceOutput(index, { eosIds: [EOS, 99], stop });
  c.maxTokens = maxTokens;
  return c;
}

const text = (events: ChoiceEvent[]): string =>
  events.map((e) => (e.type === "delta" ? e.text : "")).join("");

describe("ChoiceOutput: EOS", () => {
  it("finishes with stop and releases held text, never the EOS token's own text", () => {
    const c = choice(["END"]);
    expect(c.accept(5, "the E", null)).toEqual([{ type: "delta", index: 0, text: "the " }]);
    expect(c.accept(EOS, "</s>", null)).toEqual([
      { type: "delta", index: 0, text: "E" },
      { type: "finish", index: 0, finishReason: "stop" },
    ]);
    expect(c.finished).toBe(true);
    expect(c.finishReason).toBe("stop");
    expect(c.generated).toBe(2);
  });

  it("any id of the EOS list ends the choice; without held text only finish is sent", () => {
    const c = choice();
    expect(c.accept(99, "", null)).toEqual([{ type: "finish", index: 0, finishReason: "stop" }]);
  });

  it("accepts nothing after finishing", () => {
    const c = choice();
    c.accept(EOS, "", null);
    expect(c.accept(5, "more", null)).toEqual([]);
    expect(c.cancel()).toEqual([]);
    expect(c.generated).toBe(1);
  });
});

describe("ChoiceOutput: stop strings", () => {
  it("finishes with stop and never emits the stop string or what follows", () => {
    const c = choice(["\n"]);
    expect(c.accept(1, "Hello", null)).toEqual([{ type: "delta", index: 0, text: "Hello" }]);
    expect(c.accept(3, " world\nmore", null)).toEqual([
      { type: "delta", index: 0, text: " world" },
      { type: "finish", index: 0, finishReason: "stop" },
    ]);
    expect(c.finishReason).toBe("stop");
  });

  it("a stop string split across tokens does not leak, even partly", () => {
    const c = choice(["llo"]);
    expect(c.accept(1, "Hel", null)).toEqual([{ type: "delta", index: 0, text: "He" }]);
    expect(c.accept(3, "lo", null)).toEqual([{ type: "finish", index: 0, finishReason: "stop" }]);
  });

  it("a stop string completed by the last allowed token is a stop, not length", () => {
    const c = choice(["END"], 2);
    c.accept(1, "EN", null);
    expect(c.accept(3, "D", null)).toEqual([{ type: "finish", index: 0, finishReason: "stop" }]);
  });
});

describe("ChoiceOutput: max tokens", () => {
  it("finishes with length and flushes held text", () => {
    const c = choice(["END"], 2);
    expect(c.accept(1, "a", null)).toEqual([{ type: "delta", index: 0, text: "a" }]);
    expect(c.accept(3, " EN", null)).toEqual([
      { type: "delta", index: 0, text: " EN" },
      { type: "finish", index: 0, finishReason: "length" },
    ]);
    expect(c.finishReason).toBe("length");
    expect(c.generated).toBe(2);
  });

  it("an EOS as the last allowed token is a stop", () => {
    const c = choice([], 1);
    expect(c.accept(EOS, "", null)).toEqual([{ type: "finish", index: 0, finishReason: "stop" }]);
  });

  it("max_tokens 1 finishes on the first token", () => {
    const c = choice([], 1);
    expect(c.accept(4, "hi", null)).toEqual([
      { type: "delta", index: 0, text: "hi" },
      { type: "finish", index: 0, finishReason: "length" },
    ]);
  });
});

describe("ChoiceOutput: cancel", () => {
  it("finishes with cancelled, releasing held text (not a stop string yet)", () => {
    const c = choice(["END"]);
    c.accept(1, "x EN", null);
    expect(c.cancel()).toEqual([
      { type: "delta", index: 0, text: "EN" },
      { type: "finish", index: 0, finishReason: "cancelled" },
    ]);
    expect(c.finishReason).toBe("cancelled");
    expect(c.cancel()).toEqual([]);
    expect(c.accept(1, "late", null)).toEqual([]);
  });

  it("without held text sends only the finish", () => {
    const c = choice(["END"], 10, 3);
    expect(c.cancel()).toEqual([{ type: "finish", index: 3, finishReason: "cancelled" }]);
  });
});

describe("ChoiceOutput: logprobs", () => {
  it("attach to the delta that carries their token's text", () => {
    const c = choice();
    const a = lp("Hi");
    const b = lp(" there");
    expect(c.accept(1, "Hi", a)).toEqual([{ type: "delta", index: 0, text: "Hi", logprobs: [a] }]);
    expect(c.accept(3, " there", b)).toEqual([{ type: "delta", index: 0, text: " there", logprobs: [b] }]);
  });

  it("a token with no text yet (part of a character) rides on the next delta", () => {
    const c = choice();
    const part = lp("\\xc3");
    const rest = lp("\\xa9");
    expect(c.accept(1, "", part)).toEqual([]);
    expect(c.accept(3, "é", rest)).toEqual([{ type: "delta", index: 0, text: "é", logprobs: [part, rest] }]);
  });

  it("held by a possible stop string, they go out with the text", () => {
    const c = choice(["END"]);
    const a = lp("E");
    const b = lp("x");
    expect(c.accept(1, "E", a)).toEqual([]);
    expect(c.accept(3, "x", b)).toEqual([{ type: "delta", index: 0, text: "Ex", logprobs: [a, b] }]);
  });

  it("are not lost at the finish: pending ones ride on a final (possibly empty) delta", () => {
    const atLength = choice([], 2);
    const a = lp("\\xe4");
    const b = lp("\\xbd");
    atLength.accept(1, "", a);
    expect(atLength.accept(3, "", b)).toEqual([
      { type: "delta", index: 0, text: "", logprobs: [a, b] },
      { type: "finish", index: 0, finishReason: "length" },
    ]);

    const atStop = choice(["END"]);
    const c = lp("E");
    const d = lp("ND");
    atStop.accept(1, "E", c);
    expect(atStop.accept(3, "ND", d)).toEqual([
      { type: "delta", index: 0, text: "", logprobs: [c, d] },
      { type: "finish", index: 0, finishReason: "stop" },
    ]);
  });

  it("every logprob is sent exactly once, in order", () => {
    const c = choice(["zz"], 30);
    const sent: TokenLogprob[] = [];
    const given: TokenLogprob[] = [];
    const pieces = ["a", "", "z", "b", "", "", "cz", "d", "z", "e"];
    pieces.forEach((piece, i) => {
      const l = lp(piece, -i);
      given.push(l);
      for (const e of c.accept(10 + i, piece, l)) if (e.type === "delta" && e.logprobs) sent.push(...e.logprobs);
    });
    for (const e of c.cancel()) if (e.type === "delta" && e.logprobs) sent.push(...e.logprobs);
    expect(sent).toEqual(given);
  });
});

describe("ChoiceOutput: text", () => {
  it("adds up to the accepted text when nothing stops it", () => {
    const c = choice(["STOP"], 5);
    const events = ["one ", "S", "T", "O", "p"].flatMap((piece, i) => c.accept(10 + i, piece, null));
    expect(text(events)).toBe("one STOp");
    expect(events.at(-1)).toEqual({ type: "finish", index: 0, finishReason: "length" });
  });
});
