/** What the per-type grammar builders need from the schema compiler. */
import type { Grammar, GrammarNode } from "./grammar.ts";
import type { SchemaPath } from "./schema-error.ts";

export interface CompileContext {
  readonly grammar: Grammar;
  /** The grammar of a sub-schema found at `path`. */
  compile(schema: unknown, path: SchemaPath): GrammarNode;
  /** Fixed JSON text (punctuation, keys, enum values). */
  literal(text: string): GrammarNode;
  /** `,` or `:` between JSON members and items, with the space the options allow after it. */
  separator(text: "," | ":"): GrammarNode;
  /** `"name":` followed by the value. */
  member(name: string, value: GrammarNode): GrammarNode;
  /** A key of an additional property: any string but the declared names. */
  keyString(exclude: string[]): GrammarNode;
  /** A node no value matches (an unsatisfiable part of the schema). */
  nothing(): GrammarNode;
}
