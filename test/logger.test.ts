/** The logger factory that main.ts and the app share: credentials are censored wherever a serializer puts them. */
import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { createLogger } from "../src/logger.ts";

function capture(): { lines: string[]; sink: Writable } {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      lines.push(...String(chunk).split("\n").filter(Boolean));
      done();
    },
  });
  return { lines, sink };
}

describe("createLogger", () => {
  it("censors Authorization and cookies in request headers, and configured keys", async () => {
    const { lines, sink } = capture();
    const log = createLogger("trace", sink);
    log.info({ req: { headers: { authorization: "Bearer secret-1", cookie: "s=secret-2", host: "x" } } }, "request");
    log.info({ headers: { authorization: "Bearer secret-3" } }, "headers");
    log.info({ authorization: "Bearer secret-4", apiKeys: ["secret-5"] }, "fields");
    log.flush();
    await new Promise((resolve) => setImmediate(resolve));
    const all = lines.join("\n");
    for (const secret of ["secret-1", "secret-2", "secret-3", "secret-4", "secret-5"]) expect(all).not.toContain(secret);
    expect(JSON.parse(lines[0]).req.headers).toEqual({ authorization: "[redacted]", cookie: "[redacted]", host: "x" });
  });
});
