/**
 * HTTP/1.1 on a raw TCP connection, for what fetch and http.Agent hide:
 * which connection a request travels on, requests pipelined behind a
 * stream, and the server closing a connection by itself.
 */
import { once } from "node:events";
import { connect, type Socket } from "node:net";

export interface WireConnection {
  socket: Socket;
  /** Everything the server has sent so far. */
  received(): Buffer;
  /** Resolves once `condition` holds for what was received (checked on each arrival); rejects if the connection closes first. */
  until(condition: (received: Buffer) => boolean): Promise<void>;
  /** Resolves when the server (not this side) has closed the connection. */
  readonly closed: Promise<void>;
}

export async function openConnection(port: number): Promise<WireConnection> {
  const socket = connect(port, "127.0.0.1");
  let received = Buffer.alloc(0);
  socket.on("data", (chunk: Buffer) => (received = Buffer.concat([received, chunk])));
  const closed = once(socket, "close").then(() => undefined);
  await once(socket, "connect");
  return {
    socket,
    received: () => received,
    closed,
    async until(condition) {
      while (!condition(received)) {
        if (socket.destroyed) throw new Error(`connection closed before the condition held; received ${JSON.stringify(received.toString("latin1").slice(-300))}`);
        await Promise.race([once(socket, "data"), closed]);
      }
    },
  };
}

/** A connection attempt's outcome: "connected" or the error code (ECONNREFUSED …). */
export async function tryConnect(port: number): Promise<string> {
  const socket = connect(port, "127.0.0.1");
  try {
    await once(socket, "connect");
    return "connected";
  } catch (error) {
    return (error as NodeJS.ErrnoException).code ?? String(error);
  } finally {
    socket.destroy();
  }
}

/**
 * Resolves once a connection attempt is refused: for a listening socket
 * that is being closed. Until then an attempt may still connect (a
 * handshake the kernel completed first) or be reset (it sat in the accept
 * queue as the socket closed); only a test timeout bounds the wait.
 */
export async function untilRefused(port: number): Promise<void> {
  while ((await tryConnect(port)) !== "ECONNREFUSED");
}

export interface WireResponse {
  status: number;
  /** Header names lower-cased. */
  headers: Record<string, string>;
  body: string;
}

/** Every response in the bytes of one connection, in order: chunked or Content-Length bodies. */
export function parseResponses(bytes: Buffer): WireResponse[] {
  const responses: WireResponse[] = [];
  let at = 0;
  while (at < bytes.length) {
    const headEnd = bytes.indexOf("\r\n\r\n", at);
    if (headEnd < 0) throw new Error(`incomplete response head: ${JSON.stringify(bytes.subarray(at).toString("latin1").slice(0, 200))}`);
    const [statusLine, ...lines] = bytes.subarray(at, headEnd).toString("latin1").split("\r\n");
    const status = /^HTTP\/1\.1 (\d{3}) /.exec(statusLine);
    if (!status) throw new Error(`bad status line ${JSON.stringify(statusLine)}`);
    const headers: Record<string, string> = {};
    for (const line of lines) {
      const colon = line.indexOf(":");
      headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
    at = headEnd + 4;
    const parts: Buffer[] = [];
    if (headers["transfer-encoding"] === "chunked") {
      for (;;) {
        const sizeEnd = bytes.indexOf("\r\n", at);
        const size = Number.parseInt(bytes.subarray(at, sizeEnd).toString("latin1"), 16);
        if (sizeEnd < 0 || Number.isNaN(size)) throw new Error("bad chunk size line");
        at = sizeEnd + 2;
        if (size === 0) {
          at += 2;
          break;
        }
        parts.push(bytes.subarray(at, at + size));
        at += size + 2;
      }
    } else {
      const length = Number(headers["content-length"] ?? 0);
      parts.push(bytes.subarray(at, at + length));
      at += length;
    }
    responses.push({ status: Number(status[1]), headers, body: Buffer.concat(parts).toString("utf8") });
  }
  return responses;
}
