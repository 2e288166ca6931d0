/**
 * Splits a server-sent-events text stream into the payloads of its `data:`
 * lines as they arrive. Push decoded text in (a `setEncoding("utf8")`
 * response keeps multi-byte characters whole across chunks); each complete
 * event's data goes to `onData`. Callback-based rather than an async
 * generator: the load generator shares the machine with the server, so its
 * per-chunk cost should be as small as it can be.
 */
export class SseSplitter {
  private buffer = "";

  constructor(private readonly onData: (data: string) => void) {}

  push(text: string): void {
    this.buffer += text;
    let end: number;
    while ((end = this.buffer.indexOf("\n\n")) !== -1) {
      const event = this.buffer.slice(0, end);
      this.buffer = this.buffer.slice(end + 2);
      const data = event
        .split("\n")
        .filter((line) => line.startsWith("data:"))
        .map((line) => line.slice(line.startsWith("data: ") ? 6 : 5))
        .join("\n");
      if (data.length > 0) this.onData(data);
    }
  }
}
