/** For tests of checks that refuse input: run it and return the ApiError it must throw. */
import { expect } from "vitest";
import { ApiError } from "../../src/errors.ts";

export function thrownApiError(run: () => unknown): ApiError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ApiError);
    return error as ApiError;
  }
  throw new Error("expected an ApiError, nothing was thrown");
}
