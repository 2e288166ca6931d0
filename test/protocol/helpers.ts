/** Shared by the request-parser tests: the limits they parse under, and a helper that expects a 400. */
import { expect } from "vitest";
import { ApiError } from "../../src/errors.ts";
import type { ProtocolLimits } from "../../src/protocol/request-common.ts";

export const limits: ProtocolLimits = { maxN: 4, maxStop: 4, maxTokensCap: null, contextLength: 512, maxPromptTokens: null, maxSchemaBytes: 65536 };

/** A checker that parses `body` with `parse` and returns the 400 it must throw. */
export function rejectionBy(parse: (body: unknown, limits: ProtocolLimits) => unknown): (body: unknown, lim?: ProtocolLimits) => ApiError {
  return (body, lim = limits) => {
    try {
      parse(body, lim);
    } catch (err) {
      expect(err).toBeInstanceOf(ApiError);
      expect((err as ApiError).status).toBe(400);
      return err as ApiError;
    }
    throw new Error(`accepted: ${JSON.stringify(body).slice(0, 200)}`);
  };
}
