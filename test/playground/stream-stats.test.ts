/** The page's time to first token and tokens/s (src/playground/stream-stats.js), on a hand-driven clock. */
import { describe, expect, it } from "vitest";
import { StreamStats } from "../../src/playground/stream-stats.js";

describe("StreamStats", () => {
  it("times the first token from the send, and the rate over the tokens after it", () => {
    let now = 1000;
    const stats = new StreamStats(() => now);
    expect([stats.ttftMs, stats.tokensPerSecond, stats.tokens]).toEqual([null, null, 0]);
    now = 1250;
    stats.content();
    expect([stats.ttftMs, stats.tokensPerSecond, stats.tokens]).toEqual([250, null, 1]);
    for (let i = 0; i < 10; i++) {
      now += 10;
      stats.content();
    }
    // 10 tokens in the 100 ms after the first.
    expect(stats.tokens).toBe(11);
    expect(stats.tokensPerSecond).toBeCloseTo(100);
    expect(stats.ttftMs).toBe(250);
  });

  it("takes the usage chunk's count as exact, also over chunks that carried two tokens", () => {
    let now = 0;
    const stats = new StreamStats(() => now);
    for (let i = 0; i < 5; i++) {
      now += 10;
      stats.content();
    }
    stats.usage(9);
    expect(stats.tokens).toBe(9);
    expect(stats.tokensPerSecond).toBeCloseTo(8 / 0.04);
    now += 10;
    stats.content();
    expect(stats.tokens).toBe(9);
  });
});
