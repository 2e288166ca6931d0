/**
 * JSON Schema -> grammar. Each schema keyword either becomes part of the
 * grammar, so that every completed output validates, or is refused with its
 * path: a schema is never silently loosened. Compiling is pure and takes a
 * few milliseconds at most; it runs once on the request path (to answer 400s)
 * and once in the worker that generates.
 */
import { DEAD } from "./byte-terminal.ts";
import type { CompileContext } from "./compile-context.ts";
import { Grammar, GrammarLimitError, type GrammarNode } from "./grammar.ts";
import { jsonNumberTerminal } from "./json-number-terminal.ts";
import { jsonStringTerminal, StringConstraintError, type StringConstraint } from "./json-string-terminal.ts";
import { literalTerminal } from "./literal-terminal.ts";
import { checkOneOfDisjoint } from "./one-of-disjoint.ts";
import { mergeAllOf } from "./schema-all-of.ts";
import { arrayNode } from "./schema-arrays.ts";
import { SchemaError, isObject, type SchemaPath } from "./schema-error.ts";
import {
  ANNOTATIONS,
  DEFINITIONS,
  JSON_TYPES,
  checkKnownKeywords,
  readCount,
  readNumber,
  readSchemaArray,
  readString,
  readTypes,
  type JsonType,
} from "./schema-keywords.ts";
import { objectNode } from "./schema-objects.ts";
import { resolvePointer } from "./schema-pointer.ts";

export interface SchemaCompileOptions {
  /** Only bytes below 0x80 may be written raw (the vocabulary cannot spell every UTF-8 byte alone). */
  asciiOnly: boolean;
  /** Grammar size limit: a bigger schema is refused. */
  maxNodes: number;
  /**
   * Allow one space after each `:` and `,` (`{"city": "Oslo"}`), the way
   * Python's json.dumps writes and models trained on it write tool
   * arguments. Off, the value is compact JSON.
   */
  separatorSpace?: boolean;
}

export const DEFAULT_COMPILE_OPTIONS: SchemaCompileOptions = { asciiOnly: false, maxNodes: 20_000 };

/** Nesting of schema objects beyond this is refused (and keeps the compiler's own recursion shallow). */
export const MAX_SCHEMA_DEPTH = 64;

/** Any JSON value (`{"type": "json_object"}` asks for an object of them). */
export function compileJsonObject(options: SchemaCompileOptions = DEFAULT_COMPILE_OPTIONS): Grammar {
  return compileSchema({ type: "object" }, options);
}

export function compileSchema(schema: unknown, options: SchemaCompileOptions = DEFAULT_COMPILE_OPTIONS): Grammar {
  const compiler = new SchemaCompiler(schema, options);
  let root: GrammarNode;
  try {
    root = compiler.compile(schema, []);
  } catch (error) {
    if (error instanceof GrammarLimitError) throw new SchemaError([], `the schema is too large to compile: ${error.message}`);
    throw error;
  }
  compiler.grammar.seal(root);
  if (!compiler.grammar.isProductive(root)) {
    throw new SchemaError([], "no value can satisfy this schema (its constraints contradict each other)");
  }
  return compiler.grammar;
}

/** Fixed text and the grammar, for callers that assemble compiled schemas into a larger grammar. */
export interface GrammarParts {
  readonly grammar: Grammar;
  literal(text: string): GrammarNode;
}

/**
 * Several schemas compiled into one grammar (each is its own document for
 * `$ref`), then assembled by the caller: tool calls are one schema per tool
 * inside the model's call syntax. A SchemaError's path starts with the
 * index of its schema; a schema no value satisfies is refused too.
 */
export function compileComposite(
  schemas: readonly unknown[],
  options: SchemaCompileOptions,
  assemble: (values: GrammarNode[], parts: GrammarParts) => GrammarNode,
): Grammar {
  const grammar = new Grammar(options.maxNodes);
  const texts = new SchemaCompiler({}, options, grammar);
  let values: GrammarNode[];
  let root: GrammarNode;
  try {
    values = schemas.map((schema, i) => {
      try {
        return new SchemaCompiler(schema, options, grammar).compile(schema, []);
      } catch (error) {
        if (error instanceof SchemaError) throw new SchemaError([i, ...error.path], error.message);
        throw error;
      }
    });
    root = assemble(values, { grammar, literal: (text) => texts.literal(text) });
  } catch (error) {
    if (error instanceof GrammarLimitError) throw new SchemaError([], `the schemas are too large to compile: ${error.message}`);
    throw error;
  }
  grammar.seal(root);
  values.forEach((value, i) => {
    if (!grammar.isProductive(value)) throw new SchemaError([i], "no value can satisfy this schema (its constraints contradict each other)");
  });
  if (!grammar.isProductive(root)) throw new SchemaError([], "no output can satisfy these schemas");
  return grammar;
}

class SchemaCompiler implements CompileContext {
  readonly grammar: Grammar;
  private readonly refs = new Map<string, GrammarNode>();
  private readonly literals = new Map<string, GrammarNode>();
  private readonly separators = new Map<string, GrammarNode>();
  private readonly strings = new Map<string, GrammarNode>();
  private depth = 0;
  private anyValueNode: GrammarNode | null = null;
  private nothingNode: GrammarNode | null = null;

  constructor(
    private readonly root: unknown,
    private readonly options: SchemaCompileOptions,
    grammar: Grammar = new Grammar(options.maxNodes),
  ) {
    this.grammar = grammar;
  }

  compile(schema: unknown, path: SchemaPath): GrammarNode {
    if (this.depth >= MAX_SCHEMA_DEPTH) throw new SchemaError(path, `the schema nests deeper than ${MAX_SCHEMA_DEPTH} levels`);
    this.depth++;
    try {
      return this.compileInner(schema, path);
    } finally {
      this.depth--;
    }
  }

  private compileInner(schema: unknown, path: SchemaPath): GrammarNode {
    if (schema === true) return this.anyValue();
    if (schema === false) return this.nothing();
    if (!isObject(schema)) throw new SchemaError(path, "a schema must be an object or a boolean");
    checkKnownKeywords(schema, path);
    const constraining = Object.keys(schema).filter((k) => !ANNOTATIONS.has(k) && !DEFINITIONS.has(k));
    const alone = (keyword: string): void => {
      const other = constraining.find((k) => k !== keyword);
      if (other !== undefined) {
        throw new SchemaError([...path, other], `'${other}' next to '${keyword}' is not supported; move it into the referenced or combined schemas`);
      }
    };
    if (schema.$ref !== undefined) {
      alone("$ref");
      return this.reference(schema.$ref, path);
    }
    if (schema.anyOf !== undefined || schema.oneOf !== undefined) {
      const keyword = schema.anyOf !== undefined ? "anyOf" : "oneOf";
      alone(keyword);
      const branches = readSchemaArray(schema, keyword, path) as unknown[];
      if (keyword === "oneOf") checkOneOfDisjoint(branches, (b) => this.resolve(b, path), path);
      return this.grammar.alt(branches.map((b, i) => this.compile(b, [...path, keyword, i])));
    }
    if (schema.allOf !== undefined) {
      return objectNode(this, mergeAllOf(schema, path, (b, p) => this.resolve(b, p)), path);
    }
    if (schema.const !== undefined || schema.enum !== undefined) return this.enumeration(schema, path, constraining);
    const types = readTypes(schema, path) ?? new Set<JsonType>(JSON_TYPES);
    // Every integer is a number: offering both would only make the grammar ambiguous.
    if (types.has("number")) types.delete("integer");
    return this.grammar.alt([...types].map((t) => this.typed(t, schema, path)));
  }

  private typed(type: JsonType, schema: Record<string, unknown>, path: SchemaPath): GrammarNode {
    switch (type) {
      case "string":
        return this.stringNode(schema, path);
      case "number":
      case "integer":
        return this.numberNode(type === "integer", schema, path);
      case "boolean":
        return this.grammar.alt([this.literal("true"), this.literal("false")]);
      case "null":
        return this.literal("null");
      case "object":
        return objectNode(this, schema, path);
      case "array":
        return arrayNode(this, schema, path);
    }
  }

  private stringNode(schema: Record<string, unknown>, path: SchemaPath): GrammarNode {
    const constraint: StringConstraint = {
      minLength: readCount(schema, "minLength", path),
      maxLength: readCount(schema, "maxLength", path),
      pattern: readString(schema, "pattern", path),
      format: readString(schema, "format", path),
      asciiOnly: this.options.asciiOnly,
    };
    return this.stringTerminal(constraint, path);
  }

  private numberNode(integer: boolean, schema: Record<string, unknown>, path: SchemaPath): GrammarNode {
    const bounds = {
      minimum: readNumber(schema, "minimum", path),
      maximum: readNumber(schema, "maximum", path),
      exclusiveMinimum: readNumber(schema, "exclusiveMinimum", path),
      exclusiveMaximum: readNumber(schema, "exclusiveMaximum", path),
    };
    const terminal = jsonNumberTerminal({ integer, ...bounds });
    return terminal.initial === DEAD ? this.nothing() : this.grammar.terminal(terminal);
  }

  private enumeration(schema: Record<string, unknown>, path: SchemaPath, constraining: string[]): GrammarNode {
    const keyword = schema.const !== undefined ? "const" : "enum";
    const other = constraining.find((k) => k !== keyword && k !== "type" && k !== "nullable");
    if (other !== undefined) throw new SchemaError([...path, other], `'${other}' next to '${keyword}' is not supported`);
    let values: unknown[];
    if (keyword === "const") values = [schema.const];
    else if (!Array.isArray(schema.enum) || schema.enum.length === 0) throw new SchemaError([...path, "enum"], "'enum' must be a non-empty array");
    else values = schema.enum;
    const types = readTypes(schema, path);
    const texts = new Set<string>();
    for (const v of values) if (!types || types.has(jsonTypeOf(v)) || (jsonTypeOf(v) === "integer" && types.has("number"))) texts.add(JSON.stringify(v));
    return this.grammar.alt([...texts].map((t) => this.literal(t)));
  }

  private reference(pointer: unknown, path: SchemaPath): GrammarNode {
    if (typeof pointer !== "string") throw new SchemaError([...path, "$ref"], "'$ref' must be a string");
    const known = this.refs.get(pointer);
    if (known) return known;
    const { target, targetPath } = resolvePointer(this.root, pointer, [...path, "$ref"]);
    const ref = this.grammar.ref(pointer);
    this.refs.set(pointer, ref);
    ref.target = this.compile(target, targetPath);
    return ref;
  }

  /** Follows `$ref` chains to the schema they name (for analyses that look inside branches). */
  private resolve(schema: unknown, path: SchemaPath): unknown {
    let current = schema;
    for (let hops = 0; isObject(current) && typeof current.$ref === "string"; hops++) {
      if (hops > 32) throw new SchemaError(path, "'$ref' chain too long or circular");
      current = resolvePointer(this.root, current.$ref, path).target;
    }
    return current;
  }

  literal(text: string): GrammarNode {
    let node = this.literals.get(text);
    if (!node) {
      // Non-ASCII inside JSON strings can always be written as \u escapes, which any vocabulary can spell.
      const written = this.options.asciiOnly ? text.replace(/[\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`) : text;
      node = this.grammar.terminal(literalTerminal(new TextEncoder().encode(written)));
      this.literals.set(text, node);
    }
    return node;
  }

  separator(text: "," | ":"): GrammarNode {
    if (!this.options.separatorSpace) return this.literal(text);
    let node = this.separators.get(text);
    if (!node) {
      node = this.grammar.seq([this.literal(text), this.grammar.optional(this.literal(" "))]);
      this.separators.set(text, node);
    }
    return node;
  }

  member(name: string, value: GrammarNode): GrammarNode {
    if (!this.options.separatorSpace) return this.grammar.seq([this.literal(`${JSON.stringify(name)}:`), value]);
    return this.grammar.seq([this.literal(JSON.stringify(name)), this.separator(":"), value]);
  }

  keyString(exclude: string[]): GrammarNode {
    return this.stringTerminal({ exclude, asciiOnly: this.options.asciiOnly }, []);
  }

  nothing(): GrammarNode {
    this.nothingNode ??= this.grammar.alt([]);
    return this.nothingNode;
  }

  /** The grammar of any JSON value, built once and shared through a reference (it is recursive). */
  private anyValue(): GrammarNode {
    if (this.anyValueNode) return this.anyValueNode;
    const g = this.grammar;
    const ref = g.ref("<any JSON value>");
    this.anyValueNode = ref;
    const string = this.stringTerminal({ asciiOnly: this.options.asciiOnly }, []);
    const member = g.seq([string, this.separator(":"), ref]);
    ref.target = g.alt([
      g.seq([this.literal("{"), g.repeat(member, 0, Number.POSITIVE_INFINITY, this.separator(",")), this.literal("}")]),
      g.seq([this.literal("["), g.repeat(ref, 0, Number.POSITIVE_INFINITY, this.separator(",")), this.literal("]")]),
      string,
      g.terminal(jsonNumberTerminal({ integer: false })),
      this.literal("true"),
      this.literal("false"),
      this.literal("null"),
    ]);
    return ref;
  }

  private stringTerminal(constraint: StringConstraint, path: SchemaPath): GrammarNode {
    const key = JSON.stringify(constraint);
    let node = this.strings.get(key);
    if (!node) {
      const terminal = stringTerminalAt(constraint, path);
      node = terminal.initial === DEAD ? this.nothing() : this.grammar.terminal(terminal);
      this.strings.set(key, node);
    }
    return node;
  }
}

/** Builds the string terminal; its refusals (an unsupported pattern, an unknown format, a limit) name the keyword. */
function stringTerminalAt(constraint: StringConstraint, path: SchemaPath): ReturnType<typeof jsonStringTerminal> {
  try {
    return jsonStringTerminal(constraint);
  } catch (error) {
    if (!(error instanceof StringConstraintError)) throw error;
    // Exclusions are the compiler's own (declared keys), not a keyword of the client's schema.
    throw new SchemaError(error.keyword === "exclude" ? path : [...path, error.keyword], error.message);
  }
}

function jsonTypeOf(v: unknown): JsonType {
  if (v === null) return "null";
  if (Array.isArray(v)) return "array";
  if (typeof v === "number") return Number.isInteger(v) ? "integer" : "number";
  return typeof v as JsonType;
}

