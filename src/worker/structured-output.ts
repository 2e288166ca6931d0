/**
 * A worker's structured-output service: the vocabulary as bytes (read once
 * at boot, to tell the engine what this model supports), its trie (built on
 * the first constrained row), and compiled grammars shared by rows that ask
 * for the same schema, each with its mask cache.
 */
import { readFileSync } from "node:fs";
import type { OutputConstraint } from "../domain.ts";
import { compileConstraint, constraintKey } from "../generation/constraint/compile-constraint.ts";
import { structuredOutputSupport, type StructuredOutputSupport } from "../generation/constraint/constraint-vocabulary.ts";
import { CompiledConstraint, RowConstraint, type ConstraintVocabulary } from "../generation/constraint/row-constraint.ts";
import { DEFAULT_COMPILE_OPTIONS } from "../generation/constraint/schema-compiler.ts";
import { tokenBytesFromTokenizerJson, type TokenBytes, type TokenBytesResult } from "../generation/constraint/token-bytes.ts";
import { TokenTrie } from "../generation/constraint/token-trie.ts";
import type { ModelFolder } from "../model/model-folder.ts";
import type { AdmitRow } from "./messages.ts";
import { ToolCallTriggerGuide, WholeOutputGuide, type RowGuide } from "./row-guide.ts";

/** Compiled grammars kept per worker; agents tend to send the same few schemas over and over. */
const GRAMMAR_CACHE_ENTRIES = 32;

export class StructuredOutput {
  readonly support: StructuredOutputSupport;
  private vocabulary: ConstraintVocabulary | null = null;
  private readonly grammars = new Map<string, CompiledConstraint>();

  private constructor(
    private readonly table: TokenBytes | null,
    private readonly vocabSize: number,
    private readonly eosIds: readonly number[],
    reason: string,
  ) {
    this.support = structuredOutputSupport(table, reason);
  }

  static forModel(folder: ModelFolder, vocabSize: number): StructuredOutput {
    const result = constraintTable(folder, vocabSize);
    const eosIds = folder.special.eos;
    if (!result.ok) return new StructuredOutput(null, vocabSize, eosIds, result.reason);
    return new StructuredOutput(result.table, vocabSize, eosIds, "");
  }

  /** What steers an admitted row: its constraint, its tool-call trigger, or nothing. */
  /** `extraBytes`: special tokens the row's text shows (its kept call markers), which the trigger must see too. */
  guideFor(admit: Pick<AdmitRow, "constraint" | "toolTrigger">, extraBytes: ReadonlyMap<number, Uint8Array> = new Map()): RowGuide | null {
    if (admit.constraint) return new WholeOutputGuide(this.rowConstraint(admit.constraint));
    const trigger = admit.toolTrigger;
    // Without constrained decoding, "auto" calls are read as written (the engine admits them so).
    if (!trigger || !this.table || !this.support.available) return null;
    const table = this.table;
    const body = trigger.body;
    const bytes = (text: string) => new TextEncoder().encode(text);
    const thinking = trigger.reasoning;
    const reasoning = thinking ? { open: bytes(thinking.open), close: bytes(thinking.close), inside: thinking.inside } : null;
    return new ToolCallTriggerGuide(bytes(trigger.open), () => this.rowConstraint(body), (id) => table.bytes[id] ?? extraBytes.get(id) ?? null, trigger.parallel, reasoning);
  }

  /** A fresh row state for a constraint (the grammar compiled once per distinct schema). */
  rowConstraint(constraint: OutputConstraint): RowConstraint {
    if (!this.support.available || !this.table) throw new Error(`structured output is unavailable: ${this.support.reason}`);
    const key = constraintKey(constraint);
    let compiled = this.grammars.get(key);
    if (compiled) {
      this.grammars.delete(key);
    } else {
      const grammar = compileConstraint(constraint, { ...DEFAULT_COMPILE_OPTIONS, asciiOnly: this.support.asciiOnly });
      compiled = new CompiledConstraint(grammar, this.vocabularyNow(this.table));
      if (this.grammars.size >= GRAMMAR_CACHE_ENTRIES) this.grammars.delete(this.grammars.keys().next().value as string);
    }
    this.grammars.set(key, compiled);
    return new RowConstraint(compiled);
  }

  private vocabularyNow(table: TokenBytes): ConstraintVocabulary {
    this.vocabulary ??= { table, trie: TokenTrie.build(table), vocabSize: this.vocabSize, eosIds: this.eosIds };
    return this.vocabulary;
  }
}

/**
 * The model's token bytes as constrained rows see them (EOS taken out).
 * Exported so the mask-cost bench measures the very table a worker uses.
 */
export function constraintTable(folder: ModelFolder, vocabSize: number): TokenBytesResult {
  const json: unknown = JSON.parse(readFileSync(folder.tokenizerPath, "utf8"));
  const extra = folder.tokenizerConfig.additional_special_tokens;
  const additionalSpecialTokens = Array.isArray(extra) ? extra.filter((t): t is string => typeof t === "string") : [];
  const result = tokenBytesFromTokenizerJson(json, vocabSize, { additionalSpecialTokens });
  return result.ok ? { ok: true, table: withoutEos(result.table, folder.special.eos) } : result;
}

/** EOS ids end the value; they never stand for bytes inside it, even where a model's EOS is an ordinary token. */
function withoutEos(table: TokenBytes, eosIds: readonly number[]): TokenBytes {
  const bytes = table.bytes.slice();
  for (const id of eosIds) if (id < bytes.length) bytes[id] = null;
  const singleByte = new Uint8Array(256);
  for (const b of bytes) if (b && b.length === 1) singleByte[b[0]] = 1;
  return { bytes, singleByte };
}
