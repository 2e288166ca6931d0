/**
 * Helpers for the tool-call parser tests: run a stream over chunks, every
 * way of splitting a text, and checks that events are well formed.
 */
import { expect } from "vitest";
import { assembleToolCallEvents, type ParsedToolCalls, type ToolCallEvent, type ToolCallStreamOptions } from "../../../src/generation/tools/tool-call-events.ts";
import type { ToolCallFormat } from "../../../src/generation/tools/tool-call-format.ts";
import { ToolCallStream } from "../../../src/generation/tools/tool-call-stream.ts";

export const TOOLS = ["get_weather", "get_time", "run_sql"];

export function options(overrides: Partial<ToolCallStreamOptions> = {}): ToolCallStreamOptions {
  return { tools: TOOLS, parallel: true, idFor: (index) => `call_${index}`, ...overrides };
}

/** Every event of a stream fed these chunks, push by push, then finish's. */
export function streamEvents(format: ToolCallFormat, chunks: readonly string[], opts: ToolCallStreamOptions): ToolCallEvent[][] {
  const stream = new ToolCallStream(format, opts);
  return [...chunks.map((chunk) => stream.push(chunk)), stream.finish()];
}

export function streamed(format: ToolCallFormat, chunks: readonly string[], opts: ToolCallStreamOptions): ParsedToolCalls {
  const events = streamEvents(format, chunks, opts).flat();
  expectWellFormed(events);
  return assembleToolCallEvents(events);
}

/** The text cut at each point into two chunks, and cut into single characters. */
export function splits(text: string): string[][] {
  const result: string[][] = [[...text]];
  for (let at = 0; at <= text.length; at++) result.push([text.slice(0, at), text.slice(at)]);
  return result;
}

/** Starts in index order, each before its arguments; no empty event; calls' arguments only after their start. */
export function expectWellFormed(events: readonly ToolCallEvent[]): void {
  let started = 0;
  for (const event of events) {
    if (event.type === "content") {
      expect(event.text.length).toBeGreaterThan(0);
    } else if (event.type === "tool_call_start") {
      expect(event.index).toBe(started);
      expect(event.id).toBe(`call_${event.index}`);
      started++;
    } else {
      expect(event.index).toBeLessThan(started);
      expect(event.fragment.length).toBeGreaterThan(0);
    }
  }
}

export function call(index: number, name: string, args: string): { id: string; name: string; arguments: string } {
  return { id: `call_${index}`, name, arguments: args };
}
