/**
 * The calls and content of a complete (non-streamed) choice. It is the
 * stream given the whole text at once, so a streamed choice's events always
 * reassemble to exactly this.
 */
import { assembleToolCallEvents, type ParsedToolCalls, type ToolCallStreamOptions } from "./tool-call-events.ts";
import type { ToolCallFormat } from "./tool-call-format.ts";
import { ToolCallStream } from "./tool-call-stream.ts";

export function parseToolCalls(format: ToolCallFormat, text: string, options: ToolCallStreamOptions): ParsedToolCalls {
  const stream = new ToolCallStream(format, options);
  return assembleToolCallEvents([...stream.push(text), ...stream.finish()]);
}
