/** A model folder that cannot be served: names the file and the reason, shown at start-up. */
export class ModelLoadError extends Error {
  readonly file: string;
  constructor(file: string, reason: string) {
    super(`${file}: ${reason}`);
    this.name = "ModelLoadError";
    this.file = file;
  }
}
