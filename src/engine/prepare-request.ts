/**
 * The checks a request passes before and after its prompt is encoded, as
 * pure functions of the request and the model's limits. Each refusal is
 * decided here and nowhere else, so the facade only calls them in order.
 */
import type { ValidGenerationRequest } from "../domain.ts";
import { contextLengthExceeded, invalidRequest, promptFarTooLong, promptOverServerLimit } from "../errors.ts";
import { compileConstraint } from "../generation/constraint/compile-constraint.ts";
import type { StructuredOutputSupport } from "../generation/constraint/constraint-vocabulary.ts";
import { SchemaError } from "../generation/constraint/schema-error.ts";
import { checkToolSchemas } from "./check-tools.ts";
import { DEFAULT_COMPILE_OPTIONS } from "../generation/constraint/schema-compiler.ts";
import { formatParam } from "../protocol/request-errors.ts";

export interface ModelLimits {
  contextLength: number;
  /** Width of the logits: token ids at or past it do not exist for this model. */
  vocabSize: number;
  /** Longest vocabulary entry in characters: no token covers more text. */
  maxTokenChars: number;
  /** The server's own prompt limit; null: only the context limits it. */
  maxPromptTokens: number | null;
  /** Whether the vocabulary allows constrained decoding, and how. */
  structuredOutput: StructuredOutputSupport;
}

/**
 * Refuses what can be refused without tokenizing: logit_bias ids outside
 * the vocabulary, token-id prompts that do not fit (their length is exact),
 * and text so long that it cannot fit whatever its tokens turn out to be,
 * so that megabytes of text never occupy a worker.
 */
export function checkBeforeEncoding(valid: ValidGenerationRequest, limits: ModelLimits): void {
  checkConstraint(valid, limits.structuredOutput);
  checkToolSchemas(valid.tools);
  for (const [id] of valid.sampling.logitBias) {
    if (id >= limits.vocabSize) {
      throw invalidRequest(`logit_bias token id ${id} is outside the vocabulary [0, ${limits.vocabSize}).`, `logit_bias.${id}`);
    }
  }
  const prompt = valid.prompt;
  if (prompt.kind === "tokens") {
    completionBudget(prompt.ids.length, valid, limits);
    return;
  }
  // A token covers at most maxTokenChars characters; the factor 2 leaves room for normalizers that change the text's length.
  const chars = prompt.kind === "text" ? prompt.text.length : chatChars(prompt);
  const atLeast = Math.floor(chars / (2 * limits.maxTokenChars));
  if (atLeast > limits.contextLength) throw promptFarTooLong(atLeast, limits.contextLength, valid.promptParam);
}

/**
 * The text a chat prompt holds at least: message contents and call
 * arguments. Tool schemas are left out: a template may show only their
 * names (tiny-chat's does), so their size bounds nothing.
 */
function chatChars(prompt: Extract<ValidGenerationRequest["prompt"], { kind: "chat" }>): number {
  let chars = 0;
  for (const m of prompt.messages) {
    chars += m.content.length;
    for (const call of m.toolCalls ?? []) chars += call.arguments.length;
  }
  return chars;
}

/**
 * How many tokens each choice may generate: max_tokens, or the rest of the
 * context when it is unset. The owner of the "context end" finish rule: the
 * worker ends a row after exactly this many tokens.
 */
export function completionBudget(promptTokens: number, valid: ValidGenerationRequest, limits: ModelLimits): number {
  const context = limits.contextLength;
  if (limits.maxPromptTokens !== null && promptTokens > limits.maxPromptTokens) {
    throw promptOverServerLimit(promptTokens, limits.maxPromptTokens, valid.promptParam);
  }
  const maxTokens = valid.maxTokens ?? context - promptTokens;
  if (maxTokens < 1 || promptTokens + maxTokens > context) {
    throw contextLengthExceeded(promptTokens, Math.max(maxTokens, 1), context, valid.promptParam);
  }
  return maxTokens;
}

/**
 * Compiles a response_format schema the way the worker will, so a schema the
 * engine cannot guarantee is a 400 naming the keyword before any work starts.
 */
function checkConstraint(valid: ValidGenerationRequest, support: StructuredOutputSupport): void {
  const constraint = valid.constraint;
  if (!constraint) return;
  if (!support.available) {
    throw invalidRequest(
      `'response_format' ${constraint.kind} needs constrained decoding, which this model's tokenizer does not allow: ${support.reason}.`,
      "response_format",
      "unsupported_value",
    );
  }
  try {
    compileConstraint(constraint, { ...DEFAULT_COMPILE_OPTIONS, asciiOnly: support.asciiOnly });
  } catch (error) {
    if (!(error instanceof SchemaError)) throw error;
    const param = formatParam(["response_format", "json_schema", "schema", ...error.path]);
    throw invalidRequest(`Invalid schema at '${param}': ${error.message}.`, param, "invalid_schema");
  }
}
