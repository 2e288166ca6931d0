/**
 * What the tool-call parser reports per choice, shaped after OpenAI's
 * streaming: a call's start (index, id, name) comes first, then fragments
 * of its arguments text that concatenate to the whole.
 */
import type { ToolCall } from "../../domain.ts";

export type ToolCallEvent =
  | { type: "content"; text: string }
  | { type: "tool_call_start"; index: number; id: string; name: string }
  | { type: "tool_call_arguments"; index: number; fragment: string };

export interface ToolCallStreamOptions {
  /** Names of the functions offered: a call to any other name is not a call. */
  tools: readonly string[];
  /** parallel_tool_calls: false keeps only the first call of a choice (later valid calls are dropped). */
  parallel: boolean;
  /** The id of the choice's index-th call (0-based, in order of emission). */
  idFor: (index: number) => string;
  /**
   * The calls were produced under constrained decoding, which guarantees that
   * each is complete and valid: the start is sent as soon as the name is
   * read and the arguments stream as they arrive. Default false: a call is
   * sent only once it has been read whole and validated.
   */
  trusted?: boolean;
}

/** A choice's output with its calls taken out: `content` is "" when there is no text outside calls. */
export interface ParsedToolCalls {
  content: string;
  toolCalls: ToolCall[];
}

/** Reassembles events (one push's, or a whole stream's) as a client does: content joined, each call's arguments joined. */
export function assembleToolCallEvents(events: readonly ToolCallEvent[]): ParsedToolCalls {
  let content = "";
  const toolCalls: ToolCall[] = [];
  for (const event of events) {
    if (event.type === "content") content += event.text;
    else if (event.type === "tool_call_start") toolCalls[event.index] = { id: event.id, name: event.name, arguments: "" };
    else toolCalls[event.index].arguments += event.fragment;
  }
  return { content, toolCalls };
}
