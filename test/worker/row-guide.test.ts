/**
 * The tool_choice auto trigger on tiny-chat's real vocabulary: free text
 * until the output opens a call, then the call is constrained (a mask).
 * For a model that thinks aloud, a marker inside its thinking block is
 * thought, not a call; the block counts only at the start of the output,
 * or from the prompt when the generation prompt opened it.
 */
import { describe, expect, it } from "vitest";
import { loadModelFolder } from "../../src/model/model-folder.ts";
import { loadTokenizer } from "../../src/model/tokenizer.ts";
import type { ToolTrigger } from "../../src/worker/messages.ts";
import type { RowGuide } from "../../src/worker/row-guide.ts";
import { StructuredOutput } from "../../src/worker/structured-output.ts";
import { tinyChat } from "../support/fixtures.ts";
import { hermesWeatherCallBody } from "../support/tool-trigger.ts";

const folder = loadModelFolder(tinyChat);
const service = StructuredOutput.forModel(folder, 414);
const tokenizer = loadTokenizer(folder);
const body = hermesWeatherCallBody;

function guide(reasoning: ToolTrigger["reasoning"]): RowGuide {
  const made = service.guideFor({ constraint: null, toolTrigger: { open: "<tool_call>", body, parallel: false, reasoning } });
  if (!made) throw new Error("expected a guide");
  return made;
}

/** Feeds the text's tokens; true when the guide constrains the next token (a call is open). */
function constrainedAfter(g: RowGuide, text: string): boolean {
  for (const id of tokenizer.plain.encode(text).ids) g.advance(id);
  return g.mask() !== null;
}

const think = { open: "<think>", close: "</think>" };

describe("ToolCallTriggerGuide", () => {
  it("free until the marker, constrained after it", () => {
    const g = guide(null);
    expect(constrainedAfter(g, "Let me check. <tool_")).toBe(false);
    expect(constrainedAfter(g, "call>")).toBe(true);
  });

  it("the prompt opened the thinking block: a marker in it is thought; after </think> it is a call", () => {
    const g = guide({ ...think, inside: true });
    expect(constrainedAfter(g, "I could write <tool_call> here.")).toBe(false);
    expect(constrainedAfter(g, "\n</think>\n\n<tool_call>")).toBe(true);
  });

  it("the output opens the block itself (after whitespace)", () => {
    const g = guide({ ...think, inside: false });
    expect(constrainedAfter(g, " \n<think>maybe <tool_call> later</think>")).toBe(false);
    expect(constrainedAfter(g, "<tool_call>")).toBe(true);
  });

  it("an output that starts with the call itself (sharing '<t' with the thinking tag) is a call", () => {
    expect(constrainedAfter(guide({ ...think, inside: false }), "<tool_call>")).toBe(true);
  });

  it("a <think> after content has begun is text, and the marker after it a call", () => {
    expect(constrainedAfter(guide({ ...think, inside: false }), "Sure. <think> <tool_call>")).toBe(true);
  });
});
