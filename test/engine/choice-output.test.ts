/**
 * ChoiceOutput: one choice's tokens to client events. The worker's verdict
 * (EOS, token budget), stop strings and cancel each end the choice once,
 * with the right finish reason, releasing held text unless it was a stop
 * string. The verdicts are given here as the worker would send them
 * (test/worker/worker-row.test.ts checks that the worker gives them).
 */
import { describe, expect, it } from "vitest";
import { ChoiceOutput, type ChoiceEvent } from "../../src/engine/choice-output.ts";
import type { TokenLogprob } from "../../src/domain.ts";
import { ROW_END } from "../../src/worker/messages.ts";

const { continues: GO, eos: EOS_END, length: LENGTH } = ROW_END;

const lp = (token: string, logprob = -0.5): TokenLogprob => ({
  token,
  logprob,
  top: [],
});

const choice = (stop: string[] = [], index = 0): ChoiceOutput => new ChoiceOutput(index, stop);

const text = (events: ChoiceEvent[]): string =>
  events.map((e) => (e.type === "delta" ? e.text : "")).join("");

describe("ChoiceOutput: the worker's EOS verdict", () => {
  it("finishes with stop and releases held text, never the EOS token's own text", () => {
    const c = choice(["END"]);
    expect(c.accept("the E", null, GO)).toEqual([{ type: "delta", index: 0, text: "the " }]);
    expect(c.accept("</s>", null, EOS_END)).toEqual([
      { type: "delta", index: 0, text: "E" },
      { type: "finish", index: 0, finishReason: "stop" },
    ]);
    expect(c.finished).toBe(true);
    expect(c.finishReason).toBe("stop");
    expect(c.generated).toBe(2);
  });

  it("an EOS verdict without held text sends only the finish", () => {
    const c = choice();
    expect(c.accept("", null, EOS_END)).toEqual([{ type: "finish", index: 0, finishReason: "stop" }]);
  });

  it("accepts nothing after finishing", () => {
    const c = choice();
    c.accept("", null, EOS_END);
    expect(c.accept("more", null, GO)).toEqual([]);
    expect(c.cancel()).toEqual([]);
    expect(c.generated).toBe(1);
  });
});

describe("ChoiceOutput: stop strings", () => {
  it("finishes with stop and never emits the stop string or what follows", () => {
    const c = choice(["\n"]);
    expect(c.accept("Hello", null, GO)).toEqual([{ type: "delta", index: 0, text: "Hello" }]);
    expect(c.accept(" world\nmore", null, GO)).toEqual([
      { type: "delta", index: 0, text: " world" },
      { type: "finish", index: 0, finishReason: "stop" },
    ]);
    expect(c.finishReason).toBe("stop");
  });

  it("a stop string split across tokens does not leak, even partly", () => {
    const c = choice(["llo"]);
    expect(c.accept("Hel", null, GO)).toEqual([{ type: "delta", index: 0, text: "He" }]);
    expect(c.accept("lo", null, GO)).toEqual([{ type: "finish", index: 0, finishReason: "stop" }]);
  });

  it("a stop string completed by the last allowed token is a stop, not length", () => {
    const c = choice(["END"]);
    c.accept("EN", null, GO);
    expect(c.accept("D", null, LENGTH)).toEqual([{ type: "finish", index: 0, finishReason: "stop" }]);
  });
});

describe("ChoiceOutput: the worker's length verdict (max tokens, context end)", () => {
  it("finishes with length and flushes held text", () => {
    const c = choice(["END"]);
    expect(c.accept("a", null, GO)).toEqual([{ type: "delta", index: 0, text: "a" }]);
    expect(c.accept(" EN", null, LENGTH)).toEqual([
      { type: "delta", index: 0, text: " EN" },
      { type: "finish", index: 0, finishReason: "length" },
    ]);
    expect(c.finishReason).toBe("length");
    expect(c.generated).toBe(2);
  });

  it("EOS on the last allowed token: the worker says EOS, a stop", () => {
    const c = choice();
    expect(c.accept("", null, EOS_END)).toEqual([{ type: "finish", index: 0, finishReason: "stop" }]);
  });

  it("max_tokens 1 finishes on the first token", () => {
    const c = choice();
    expect(c.accept("hi", null, LENGTH)).toEqual([
      { type: "delta", index: 0, text: "hi" },
      { type: "finish", index: 0, finishReason: "length" },
    ]);
  });
});

describe("ChoiceOutput: cancel", () => {
  it("finishes with cancelled, releasing held text (not a stop string yet)", () => {
    const c = choice(["END"]);
    c.accept("x EN", null, GO);
    expect(c.cancel()).toEqual([
      { type: "delta", index: 0, text: "EN" },
      { type: "finish", index: 0, finishReason: "cancelled" },
    ]);
    expect(c.finishReason).toBe("cancelled");
    expect(c.cancel()).toEqual([]);
    expect(c.accept("late", null, GO)).toEqual([]);
  });

  it("without held text sends only the finish", () => {
    const c = choice(["END"], 3);
    expect(c.cancel()).toEqual([{ type: "finish", index: 3, finishReason: "cancelled" }]);
  });
});

describe("ChoiceOutput: logprobs", () => {
  it("attach to the delta that carries their token's text", () => {
    const c = choice();
    const a = lp("Hi");
    const b = lp(" there");
    expect(c.accept("Hi", a, GO)).toEqual([{ type: "delta", index: 0, text: "Hi", logprobs: [a] }]);
    expect(c.accept(" there", b, GO)).toEqual([{ type: "delta", index: 0, text: " there", logprobs: [b] }]);
  });

  it("a token with no text yet (part of a character) rides on the next delta", () => {
    const c = choice();
    const part = lp("\\xc3");
    const rest = lp("\\xa9");
    expect(c.accept("", part, GO)).toEqual([]);
    expect(c.accept("é", rest, GO)).toEqual([{ type: "delta", index: 0, text: "é", logprobs: [part, rest] }]);
  });

  it("held by a possible stop string, they go out with the text", () => {
    const c = choice(["END"]);
    const a = lp("E");
    const b = lp("x");
    expect(c.accept("E", a, GO)).toEqual([]);
    expect(c.accept("x", b, GO)).toEqual([{ type: "delta", index: 0, text: "Ex", logprobs: [a, b] }]);
  });

  it("are not lost at the finish: pending ones ride on a final (possibly empty) delta", () => {
    const atLength = choice();
    const a = lp("\\xe4");
    const b = lp("\\xbd");
    atLength.accept("", a, GO);
    expect(atLength.accept("", b, LENGTH)).toEqual([
      { type: "delta", index: 0, text: "", logprobs: [a, b] },
      { type: "finish", index: 0, finishReason: "length" },
    ]);

    const atStop = choice(["END"]);
    const c = lp("E");
    const d = lp("ND");
    atStop.accept("E", c, GO);
    expect(atStop.accept("ND", d, GO)).toEqual([
      { type: "delta", index: 0, text: "", logprobs: [c, d] },
      { type: "finish", index: 0, finishReason: "stop" },
    ]);
  });

  it("every logprob is sent exactly once, in order", () => {
    const c = choice(["zz"]);
    const sent: TokenLogprob[] = [];
    const given: TokenLogprob[] = [];
    const pieces = ["a", "", "z", "b", "", "", "cz", "d", "z", "e"];
    pieces.forEach((piece, i) => {
      const l = lp(piece, -i);
      given.push(l);
      for (const e of c.accept(piece, l, GO)) if (e.type === "delta" && e.logprobs) sent.push(...e.logprobs);
    });
    for (const e of c.cancel()) if (e.type === "delta" && e.logprobs) sent.push(...e.logprobs);
    expect(sent).toEqual(given);
  });
});

describe("ChoiceOutput: text", () => {
  it("adds up to the accepted text when nothing stops it", () => {
    const c = choice(["STOP"]);
    const events = ["one ", "S", "T", "O", "p"].flatMap((piece, i) => c.accept(piece, null, i === 4 ? LENGTH : GO));
    expect(text(events)).toBe("one STOp");
    expect(events.at(-1)).toEqual({ type: "finish", index: 0, finishReason: "length" });
  });
});
