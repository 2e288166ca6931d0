/**
 * Server-sent events on a raw Node response. It writes `data: <json>\n\n`
 * frames, waits for 'drain' when the socket is full (so a slow reader cannot
 * grow server memory), and reports a socket that closed before the stream
 * finished — that is how a client disconnect reaches the engine.
 */
import type { OutgoingHttpHeaders, ServerResponse } from "node:http";

/** The part of a writable response the writer needs; a fake one is enough in tests. */
export interface SseSink {
  write(chunk: string): boolean;
  end(): unknown;
  once(event: "drain" | "close", listener: () => void): unknown;
  off(event: "drain" | "close", listener: () => void): unknown;
  readonly writableFinished: boolean;
  readonly destroyed: boolean;
}

export const SSE_HEADERS: OutgoingHttpHeaders = {
  "content-type": "text/event-stream; charset=utf-8",
  "cache-control": "no-cache",
  // Proxies such as nginx would otherwise buffer the stream.
  "x-accel-buffering": "no",
  connection: "keep-alive",
};

/** Sends the 200 head at once, so the client has X-Request-Id before the first token. */
export function writeSseHead(res: ServerResponse, headers: OutgoingHttpHeaders): void {
  res.writeHead(200, { ...headers, ...SSE_HEADERS });
  res.flushHeaders();
}

export class SseWriter {
  private closed = false;

  /** `onClientGone` runs once if the sink closes before the stream was ended. */
  constructor(
    private readonly sink: SseSink,
    onClientGone: () => void,
  ) {
    this.closed = sink.destroyed;
    sink.once("close", () => {
      this.closed = true;
      if (!sink.writableFinished) onClientGone();
    });
    if (this.closed) onClientGone();
  }

  get isOpen(): boolean {
    return !this.closed;
  }

  /** Resolves false once the client is gone; the caller should stop producing. */
  send(data: unknown): Promise<boolean> {
    return this.writeFrame(`data: ${JSON.stringify(data)}\n\n`);
  }

  async done(): Promise<void> {
    if (await this.writeFrame("data: [DONE]\n\n")) this.sink.end();
  }

  private async writeFrame(frame: string): Promise<boolean> {
    if (this.closed) return false;
    if (this.sink.write(frame)) return true;
    await this.drainOrClose();
    return !this.closed;
  }

  private drainOrClose(): Promise<void> {
    return new Promise((resolve) => {
      const settle = (): void => {
        this.sink.off("drain", settle);
        this.sink.off("close", settle);
        resolve();
      };
      this.sink.once("drain", settle);
      this.sink.once("close", settle);
    });
  }
}
