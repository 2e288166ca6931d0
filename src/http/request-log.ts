/**
 * The one log line written for each finished generation request (docs/API.md,
 * "The request log line"). It never holds credentials, and holds the prompt
 * only under --log-prompts: prompts are the users' data.
 */
import type { FinishedRequest } from "./request-outcome.ts";

export const REQUEST_LOG_MESSAGE = "generation finished";

/** Milliseconds to a tenth: enough for latencies, and short in the log. */
const ms = (value: number): number => Math.round(value * 10) / 10;

export function requestLogLine(request: FinishedRequest, logPrompts: boolean): Record<string, unknown> {
  const { parsed, usage } = request;
  const line: Record<string, unknown> = {
    completionId: request.completionId,
    clientRequestId: request.clientRequestId,
    model: parsed?.model ?? null,
    endpoint: request.endpoint,
    stream: parsed?.stream ?? null,
    n: parsed?.request.n ?? null,
    status: request.status,
    finishReason: request.finishReason,
    promptTokens: usage?.promptTokens ?? null,
    completionTokens: usage?.completionTokens ?? null,
    ttftMs: request.timeToFirstTokenMs === null ? null : ms(request.timeToFirstTokenMs),
    durationMs: ms(request.durationMs),
  };
  // The client's own labels (end-user ids, metadata): present only when sent. They are identifiers the client chose to log, never prompt text.
  if (parsed?.user != null) line.user = parsed.user;
  if (parsed?.safetyIdentifier != null) line.safetyIdentifier = parsed.safetyIdentifier;
  if (parsed?.metadata != null) line.metadata = parsed.metadata;
  if (logPrompts && parsed !== null) {
    const { prompt } = parsed.request;
    if (prompt.kind === "chat") line.messages = prompt.messages;
    else line.prompt = prompt.kind === "text" ? prompt.text : prompt.ids;
  }
  return line;
}
