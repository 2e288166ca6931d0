/**
 * A stand-in for a gateway that serves the server under a sub-path: it
 * forwards /<prefix>/<rest> to <target>/<rest> and answers 404 to any other
 * path, recording it, so a page that used an absolute URL ("/v1/models")
 * fails and shows up in `strayPaths`.
 *
 * It also writes event streams two bytes per event-loop turn: a piece never
 * holds a whole 3- or 4-byte character (Chinese, emoji), so the browser
 * receives their bytes in separate network reads, as it may behind real
 * proxies.
 */
import { createServer, request as httpRequest, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";

export interface SubpathProxy {
  /** The page's address through the proxy: http://127.0.0.1:<port>/<prefix>/ */
  pageUrl: string;
  /** Paths asked for outside the prefix. */
  strayPaths: string[];
  close(): Promise<void>;
}

/** Hop-by-hop headers belong to one connection; Node sets its own on each side. */
const HOP_BY_HOP = new Set(["connection", "keep-alive", "transfer-encoding", "upgrade", "proxy-connection"]);

const endToEnd = (headers: IncomingHttpHeaders): IncomingHttpHeaders =>
  Object.fromEntries(Object.entries(headers).filter(([name]) => !HOP_BY_HOP.has(name)));

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export async function startSubpathProxy(target: string, prefix: string): Promise<SubpathProxy> {
  const strayPaths: string[] = [];
  const base = `/${prefix}/`;
  const server = createServer((req, res) => {
    const path = req.url ?? "/";
    if (!path.startsWith(base)) {
      strayPaths.push(path);
      res.writeHead(404, { "content-type": "text/plain" }).end("not under the gateway's prefix");
      return;
    }
    const upstream = httpRequest(`${target}/${path.slice(base.length)}`, { method: req.method, headers: endToEnd(req.headers) }, async (answer) => {
      res.writeHead(answer.statusCode ?? 502, endToEnd(answer.headers));
      if (!String(answer.headers["content-type"]).startsWith("text/event-stream")) {
        answer.pipe(res);
        return;
      }
      for await (const chunk of answer as AsyncIterable<Buffer>) {
        for (let at = 0; at < chunk.length && !res.destroyed; at += 2) {
          res.write(chunk.subarray(at, at + 2));
          await nextTurn();
        }
      }
      res.end();
    });
    upstream.on("error", () => res.destroy());
    // A browser that goes away (Stop's fallback, a closed tab) goes away upstream too.
    res.on("close", () => upstream.destroy());
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    pageUrl: `http://127.0.0.1:${port}${base}`,
    strayPaths,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}
