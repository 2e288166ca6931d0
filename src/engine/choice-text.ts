/**
 * What one choice's text is made of, as it is generated: the model's
 * reasoning (inside thinking tags), its tool calls (in its own call syntax),
 * and the content, which is everything else. Pure, per choice; the engine
 * feeds it the text that survived the stop strings.
 */
import type { ToolCallDelta } from "../domain.ts";
import { ReasoningStream, type ReasoningEvent } from "../generation/tools/reasoning-stream.ts";
import type { ReasoningTags } from "../generation/tools/reasoning-tags.ts";
import type { ToolCallEvent } from "../generation/tools/tool-call-events.ts";
import type { ToolCallFormat } from "../generation/tools/tool-call-format.ts";
import { newToolCallId } from "../generation/tools/tool-call-id.ts";
import { ToolCallStream } from "../generation/tools/tool-call-stream.ts";

/** How a request's output is read: set per request by the engine. */
export interface TextShape {
  /** The model's thinking tags; null: it does not think aloud. */
  reasoning: ReasoningTags | null;
  /** null: no tools offered, or tool_choice none (tool-call syntax is then plain content). */
  tools: {
    format: ToolCallFormat;
    names: readonly string[];
    parallel: boolean;
    /** Calls come from constrained decoding (tool_choice required or named): they may stream. */
    trusted: boolean;
  } | null;
}

export const PLAIN_TEXT: TextShape = { reasoning: null, tools: null };

export interface TextParts {
  content: string;
  reasoning: string;
  toolCalls: ToolCallDelta[];
}

export class ChoiceText {
  private reasoningStream: ReasoningStream | null = null;
  private readonly calls: ToolCallStream | null;

  constructor(private readonly shape: TextShape) {
    const tools = shape.tools;
    this.calls = tools
      ? new ToolCallStream(tools.format, {
          tools: tools.names,
          parallel: tools.parallel,
          trusted: tools.trusted,
          idFor: () => newToolCallId(tools.format),
        })
      : null;
  }

  /** Whether the prompt already opened the thinking block (known once the prompt is rendered); call before the first push. */
  startReasoning(insideAlready: boolean): void {
    if (this.shape.reasoning) this.reasoningStream = new ReasoningStream(this.shape.reasoning, { startsInside: insideAlready });
  }

  /** True once any tool call has been sent: the choice's finish reason is then "tool_calls". */
  get madeCalls(): boolean {
    return (this.calls?.callCount ?? 0) > 0;
  }

  push(text: string): TextParts {
    if (this.shape.reasoning && !this.reasoningStream) this.startReasoning(false);
    return this.split(this.reasoningStream ? this.reasoningStream.push(text) : [{ type: "content", text }], false);
  }

  /** The end of the choice: whatever was held back is decided now. */
  finish(): TextParts {
    return this.split(this.reasoningStream ? this.reasoningStream.finish() : [], true);
  }

  private split(events: ReasoningEvent[], end: boolean): TextParts {
    const parts: TextParts = { content: "", reasoning: "", toolCalls: [] };
    const callEvents: ToolCallEvent[] = [];
    for (const e of events) {
      if (e.type === "reasoning") parts.reasoning += e.text;
      else if (this.calls) callEvents.push(...this.calls.push(e.text));
      else parts.content += e.text;
    }
    if (end && this.calls) callEvents.push(...this.calls.finish());
    for (const e of callEvents) {
      if (e.type === "content") parts.content += e.text;
      else if (e.type === "tool_call_start") {
        parts.toolCalls.push({ index: e.index, id: e.id, name: e.name, arguments: "" });
      } else {
        const last = parts.toolCalls.at(-1);
        if (last && last.index === e.index) last.arguments += e.fragment;
        else parts.toolCalls.push({ index: e.index, arguments: e.fragment });
      }
    }
    return parts;
  }
}
