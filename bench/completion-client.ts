/**
 * One streamed POST /v1/completions over real HTTP, timed on the client:
 * start, every content chunk, the final chunk, and the usage. Optionally
 * cancels itself through the stop endpoint after some content chunks and
 * times the cancel -> final chunk latency.
 */
import { once } from "node:events";
import { Agent, request } from "node:http";
import { SseSplitter } from "./sse-stream.ts";

export interface CompletionSpec {
  baseUrl: string;
  model: string;
  promptIds: number[];
  maxTokens: number;
  /** Token id -> bias; -100 on every EOS id so a request always runs to max_tokens. */
  logitBias: Record<string, number>;
  /** Cancel via POST /v1/completions/{id}/cancel once this many content chunks arrived. */
  cancelAfterChunks?: number;
  signal?: AbortSignal;
}

export interface StreamTiming {
  id: string;
  startMs: number;
  /** performance.now() of each chunk with non-empty text. */
  contentMs: number[];
  /** Time of the chunk carrying finish_reason. */
  finishMs: number | null;
  finishReason: string | null;
  completionTokens: number | null;
  endMs: number;
  /** Set when the stream was cancelled: when the cancel was sent and the status it got. */
  cancelSentMs: number | null;
  /** When the cancel call's own response arrived. */
  cancelAnsweredMs: number | null;
  cancelStatus: number | null;
}

interface CompletionChunk {
  choices?: Array<{ text?: string; delta?: { content?: string | null }; finish_reason?: string | null }>;
  usage?: { completion_tokens?: number } | null;
  error?: { message?: string };
}

/** Keep-alive connections for the streams, like a real client pool. */
const agent = new Agent({ keepAlive: true });

/**
 * Closes the pool's idle connections. Node 20's agent can hand a request a
 * socket that the server is closing at that moment for its keep-alive
 * timeout, and the request fails with "socket hang up" (nodejs/node#52649).
 * A measurement that follows an idle gap near that timeout starts on fresh
 * connections instead.
 */
export async function closeIdleConnections(): Promise<void> {
  const idle = Object.values(agent.freeSockets).flatMap((sockets) => sockets ?? []);
  // The agent drops a socket from its pool on "close"; wait for it so none is handed out again.
  await Promise.all(
    idle.map((socket) => {
      const closed = once(socket, "close");
      socket.destroy();
      return closed;
    }),
  );
}

export function streamCompletion(spec: CompletionSpec): Promise<StreamTiming> {
  const body = {
    model: spec.model,
    prompt: spec.promptIds,
    max_tokens: spec.maxTokens,
    temperature: 0,
    stream: true,
    stream_options: { include_usage: true },
    logit_bias: spec.logitBias,
  };
  return postStream(spec.baseUrl, "/v1/completions", body, spec.signal, spec.cancelAfterChunks);
}

/**
 * One streamed POST to a generation endpoint, timed as streamCompletion
 * describes. Text is a completion chunk's `text` or a chat chunk's
 * `delta.content`, so chat streams (bench/chat-client.ts) share this reader.
 */
export function postStream(
  baseUrl: string,
  path: string,
  json: Record<string, unknown>,
  signal?: AbortSignal,
  cancelAfterChunks?: number,
): Promise<StreamTiming> {
  return new Promise((resolve, reject) => {
    const startMs = performance.now();
    const body = JSON.stringify(json);
    const req = request(
      `${baseUrl}${path}`,
      { method: "POST", agent, signal, headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body) } },
      (res) => {
        res.setEncoding("utf8");
        if (res.statusCode !== 200) {
          let text = "";
          res.on("data", (part: string) => (text += part));
          res.on("end", () => reject(new Error(`POST ${path}: HTTP ${res.statusCode}: ${text.slice(0, 300)}`)));
          return;
        }
        const header = res.headers["x-request-id"];
        const timing: StreamTiming = {
          id: typeof header === "string" ? header : "",
          startMs,
          contentMs: [],
          finishMs: null,
          finishReason: null,
          completionTokens: null,
          endMs: startMs,
          cancelSentMs: null,
          cancelAnsweredMs: null,
          cancelStatus: null,
        };
        let cancel: Promise<void> | null = null;
        let failed = false;
        const events = new SseSplitter((data) => {
          if (data === "[DONE]" || failed) return;
          const chunk = JSON.parse(data) as CompletionChunk;
          if (chunk.error) {
            failed = true;
            res.destroy();
            reject(new Error(`stream ${timing.id} failed: ${chunk.error.message ?? data}`));
            return;
          }
          const now = performance.now();
          if (chunk.usage) timing.completionTokens = chunk.usage.completion_tokens ?? null;
          const choice = chunk.choices?.[0];
          if (!choice) return;
          if (choice.text || choice.delta?.content) timing.contentMs.push(now);
          if (choice.finish_reason) {
            timing.finishMs = now;
            timing.finishReason = choice.finish_reason;
          }
          if (cancel === null && cancelAfterChunks !== undefined && timing.finishMs === null && timing.contentMs.length >= cancelAfterChunks) {
            cancel = sendCancel(baseUrl, path, timing);
          }
        });
        res.on("data", (text: string) => {
          try {
            events.push(text);
          } catch (error) {
            // A chunk that is not JSON fails the run, like any other broken stream.
            failed = true;
            res.destroy();
            reject(error as Error);
          }
        });
        res.on("error", reject);
        res.on("end", () => {
          if (failed) return;
          timing.endMs = performance.now();
          void (cancel ?? Promise.resolve()).then(() => resolve(timing));
        });
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

/** Fires the cancel without holding up the reader of the stream; never rejects (status -1 on a network error). */
async function sendCancel(baseUrl: string, path: string, timing: StreamTiming): Promise<void> {
  timing.cancelSentMs = performance.now();
  try {
    const res = await fetch(`${baseUrl}${path}/${encodeURIComponent(timing.id)}/cancel`, { method: "POST" });
    await res.arrayBuffer();
    timing.cancelAnsweredMs = performance.now();
    timing.cancelStatus = res.status;
  } catch {
    timing.cancelStatus = -1;
  }
}
