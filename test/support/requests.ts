/**
 * Engine-level requests for a chat model: a user message through the
 * model's chat template, and the variant that cannot end early (greedy,
 * every EOS id banned), so it runs exactly to maxTokens unless cancelled.
 */
import type { ValidGenerationRequest } from "../../src/domain.ts";
import { greedy, textRequest } from "./engine.ts";
import { eosBanPairs } from "./fixtures.ts";

export function chatRequest(content: string, overrides: Partial<ValidGenerationRequest> = {}): ValidGenerationRequest {
  return textRequest("", { prompt: { kind: "chat", messages: [{ role: "user", content }] }, promptParam: "messages", ...overrides });
}

/** Greedy with the model's EOS ids banned: ends only at maxTokens (finish "length") or by a cancel. */
export function noEosRequest(modelPath: string, content: string, maxTokens: number, overrides: Partial<ValidGenerationRequest> = {}): ValidGenerationRequest {
  return chatRequest(content, { sampling: { ...greedy, logitBias: eosBanPairs(modelPath) }, maxTokens, ...overrides });
}
