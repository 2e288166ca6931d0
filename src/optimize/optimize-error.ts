/**
 * Why the optimizer refuses a model: names the file and the reason, and is
 * printed as one line by the CLI, never as a stack trace.
 */
export class OptimizeError extends Error {
  readonly file: string;
  constructor(file: string, reason: string) {
    super(`${file}: ${reason}`);
    this.name = "OptimizeError";
    this.file = file;
  }
}
