/**
 * A pull that cannot go on, for a reason the user can act on (no such repo,
 * a gated repo without a token, a file that does not match its hash, the
 * Hub unreachable after every retry). The message is one line, printed as
 * it is by the CLI and by the server's start-up.
 */
export class HubError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "HubError";
  }
}
