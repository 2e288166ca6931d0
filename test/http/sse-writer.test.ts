/** SseWriter against a hand-made sink: framing, backpressure, close handling and the heartbeat comment. */
import { EventEmitter } from "node:events";
import { afterEach, describe, expect, it, vi } from "vitest";
import { SSE_HEARTBEAT, SseWriter, type SseSink } from "../../src/http/sse-writer.ts";

/** A sink whose write() reports "full" on demand, like a socket with a slow reader. */
class FakeSink extends EventEmitter implements SseSink {
  readonly frames: string[] = [];
  full = false;
  writableFinished = false;
  destroyed = false;
  ended = false;
  write(chunk: string): boolean {
    this.frames.push(chunk);
    return !this.full;
  }
  end(): void {
    this.ended = true;
    this.writableFinished = true;
    this.emit("close");
  }
  clientGone(): void {
    this.destroyed = true;
    this.emit("close");
  }
}

describe("SseWriter", () => {
  it("writes data frames and [DONE], then ends without reporting a disconnect", async () => {
    const sink = new FakeSink();
    let gone = 0;
    const writer = new SseWriter(sink, () => gone++);
    expect(await writer.send({ a: 1 })).toBe(true);
    await writer.done();
    expect(sink.frames).toEqual(['data: {"a":1}\n\n', "data: [DONE]\n\n"]);
    expect(sink.ended).toBe(true);
    expect(gone).toBe(0);
  });

  it("waits for 'drain' when write() returns false", async () => {
    const sink = new FakeSink();
    const writer = new SseWriter(sink, () => {});
    sink.full = true;
    let settled = false;
    const sent = writer.send({ n: 1 }).then((ok) => {
      settled = true;
      return ok;
    });
    // Let every pending microtask run: the send must still be waiting.
    await new Promise((resolve) => setImmediate(resolve));
    expect(settled).toBe(false);
    expect(sink.listenerCount("drain")).toBe(1);
    sink.full = false;
    sink.emit("drain");
    expect(await sent).toBe(true);
    expect(sink.listenerCount("drain")).toBe(0);
  });

  it("a close while waiting for drain resolves false and reports the client gone", async () => {
    const sink = new FakeSink();
    let gone = 0;
    const writer = new SseWriter(sink, () => gone++);
    sink.full = true;
    const sent = writer.send({ n: 1 });
    sink.clientGone();
    expect(await sent).toBe(false);
    expect(gone).toBe(1);
    expect(writer.isOpen).toBe(false);
    expect(await writer.send({ n: 2 })).toBe(false);
    await writer.done();
    expect(sink.frames).toHaveLength(1);
    expect(sink.listenerCount("drain")).toBe(0);
  });

  it("a slow reader holds at most one unacknowledged frame per writer", async () => {
    const sink = new FakeSink();
    const writer = new SseWriter(sink, () => {});
    sink.full = true;
    const producer = (async () => {
      for (let i = 0; i < 1000; i++) if (!(await writer.send({ i }))) return i;
      return 1000;
    })();
    await new Promise((resolve) => setImmediate(resolve));
    expect(sink.frames).toHaveLength(1);
    for (let k = 0; k < 3; k++) {
      sink.emit("drain");
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(sink.frames).toHaveLength(4);
    sink.clientGone();
    expect(await producer).toBe(3);
  });

  it("an already destroyed sink reports the client gone at once", () => {
    const sink = new FakeSink();
    sink.destroyed = true;
    let gone = 0;
    const writer = new SseWriter(sink, () => gone++);
    expect(gone).toBe(1);
    expect(writer.isOpen).toBe(false);
  });
});

describe("SseWriter heartbeat", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it("writes a ': keep-alive' comment after each interval of silence, and none while frames flow", async () => {
    vi.useFakeTimers();
    const sink = new FakeSink();
    const writer = new SseWriter(sink, () => {}, 1000);
    vi.advanceTimersByTime(999);
    expect(sink.frames).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(sink.frames).toEqual([SSE_HEARTBEAT]);
    vi.advanceTimersByTime(1000);
    expect(sink.frames).toEqual([SSE_HEARTBEAT, SSE_HEARTBEAT]);
    // A frame restarts the silence count: no comment at the old tick.
    vi.advanceTimersByTime(500);
    await writer.send({ a: 1 });
    vi.advanceTimersByTime(999);
    expect(sink.frames).toEqual([SSE_HEARTBEAT, SSE_HEARTBEAT, 'data: {"a":1}\n\n']);
    vi.advanceTimersByTime(1);
    expect(sink.frames.at(-1)).toBe(SSE_HEARTBEAT);
    await writer.done();
    const ended = sink.frames.length;
    vi.advanceTimersByTime(10_000);
    expect(sink.frames).toHaveLength(ended);
    expect(sink.frames.at(-1)).toBe("data: [DONE]\n\n");
  });

  it("0 turns it off", () => {
    vi.useFakeTimers();
    const sink = new FakeSink();
    new SseWriter(sink, () => {}, 0);
    vi.advanceTimersByTime(60_000);
    expect(sink.frames).toEqual([]);
  });

  it("stops when the client is gone", () => {
    vi.useFakeTimers();
    const sink = new FakeSink();
    new SseWriter(sink, () => {}, 1000);
    sink.clientGone();
    vi.advanceTimersByTime(10_000);
    expect(sink.frames).toEqual([]);
  });

  it("a comment that fills the socket makes the next frame wait for 'drain'; no comment piles up meanwhile", async () => {
    vi.useFakeTimers();
    const sink = new FakeSink();
    const writer = new SseWriter(sink, () => {}, 1000);
    sink.full = true;
    vi.advanceTimersByTime(1000);
    expect(sink.frames).toEqual([SSE_HEARTBEAT]);
    vi.advanceTimersByTime(5000);
    expect(sink.frames).toEqual([SSE_HEARTBEAT]);
    let settled = false;
    const sent = writer.send({ n: 1 }).then((ok) => (settled = ok));
    await Promise.resolve();
    expect(settled).toBe(false);
    expect(sink.frames).toEqual([SSE_HEARTBEAT]);
    sink.full = false;
    sink.emit("drain");
    await sent;
    expect(settled).toBe(true);
    expect(sink.frames).toEqual([SSE_HEARTBEAT, 'data: {"n":1}\n\n']);
  });
});
