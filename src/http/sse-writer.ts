/**
 * Server-sent events on a raw Node response. It writes `data: <json>\n\n`
 * frames, waits for 'drain' when the socket is full (so a slow reader cannot
 * grow server memory), and reports a socket that closed before the stream
 * finished — that is how a client disconnect reaches the engine.
 *
 * While the stream has nothing to send (queued behind a full batch, a long
 * prefill) it writes a `: keep-alive` comment every heartbeat interval:
 * clients skip comments, and a gateway's read timeout sees traffic instead
 * of cutting a silent stream.
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

/** An SSE comment: every client ignores it, every proxy forwards it. */
export const SSE_HEARTBEAT = ": keep-alive\n\n";

export class SseWriter {
  private closed = false;
  /** Set while the sink is full: frames and heartbeats wait for it. */
  private draining: Promise<void> | null = null;
  private readonly heartbeat: NodeJS.Timeout | null = null;

  /**
   * `onClientGone` runs once if the sink closes before the stream was ended.
   * `heartbeatMs`: silence after which a comment is written; 0 for none.
   */
  constructor(
    private readonly sink: SseSink,
    onClientGone: () => void,
    heartbeatMs = 0,
  ) {
    this.closed = sink.destroyed;
    sink.once("close", () => {
      this.closed = true;
      this.stopHeartbeat();
      if (!sink.writableFinished) onClientGone();
    });
    if (this.closed) {
      onClientGone();
      return;
    }
    if (heartbeatMs > 0) {
      // Unref'd: a stream's heartbeat alone never keeps the process up; its socket does.
      this.heartbeat = setTimeout(() => this.beat(), heartbeatMs).unref();
    }
  }

  get isOpen(): boolean {
    return !this.closed;
  }

  /** Resolves false once the client is gone; the caller should stop producing. */
  send(data: unknown): Promise<boolean> {
    return this.writeFrame(`data: ${JSON.stringify(data)}\n\n`);
  }

  async done(): Promise<void> {
    this.stopHeartbeat();
    if (await this.writeFrame("data: [DONE]\n\n")) this.sink.end();
  }

  private async writeFrame(frame: string): Promise<boolean> {
    if (this.draining !== null) await this.draining;
    if (this.closed) return false;
    const written = this.sink.write(frame);
    // Silence is counted from the last frame written.
    this.heartbeat?.refresh();
    if (written) return true;
    await this.waitForDrain();
    return !this.closed;
  }

  private beat(): void {
    if (this.closed) return;
    // A full socket already has bytes on their way; adding comments to it would only grow memory.
    if (this.draining === null && !this.sink.write(SSE_HEARTBEAT)) void this.waitForDrain();
    this.heartbeat?.refresh();
  }

  private stopHeartbeat(): void {
    if (this.heartbeat !== null) clearTimeout(this.heartbeat);
  }

  private waitForDrain(): Promise<void> {
    this.draining ??= new Promise<void>((resolve) => {
      const settle = (): void => {
        this.sink.off("drain", settle);
        this.sink.off("close", settle);
        this.draining = null;
        resolve();
      };
      this.sink.once("drain", settle);
      this.sink.once("close", settle);
    });
    return this.draining;
  }
}
