/**
 * The tool-call syntaxes the server understands, and which one a model
 * writes, read from its chat template. The parser (tool-call-stream.ts) and
 * the constrained-decoding grammars both work from TOOL_CALL_SYNTAX, so the
 * text a grammar forces is text the parser accepts.
 *
 * Every format carries each call as one JSON object,
 * `{"name": <string>, <argumentsKey>: <object>}`; formats differ only in
 * what surrounds those objects.
 */
export type ToolCallFormat = "hermes" | "llama3-json" | "mistral" | "fallback";

export interface ToolCallSyntax {
  readonly format: ToolCallFormat;
  /**
   * The marker that opens a call (for `array` formats: the list of calls).
   * null: a call is a bare JSON object, recognised only where a call may
   * start (the start of the output, or right after a call).
   */
  readonly openMarker: string | null;
  /** Further markers the parser takes as an open marker; a grammar never needs to produce them. */
  readonly altOpenMarkers: readonly string[];
  /** The marker that closes each call; null: the call ends with its JSON object (or the array with `]`). */
  readonly closeMarker: string | null;
  /** The key of the arguments object in the canonical form (the parser accepts either key). */
  readonly argumentsKey: "arguments" | "parameters";
  /** Several calls come as one JSON array of call objects after a single open marker. */
  readonly array: boolean;
  /**
   * The exact text a grammar produces around the call objects: before the
   * first, between two, after the last. The parser also accepts any JSON
   * whitespace in these places.
   */
  readonly canonical: { readonly before: string; readonly between: string; readonly after: string };
}

const HERMES = {
  openMarker: "<tool_call>",
  altOpenMarkers: [],
  closeMarker: "</tool_call>",
  argumentsKey: "arguments",
  array: false,
  // What Qwen2.5/Qwen3 and Hermes templates show the model in their instructions and history.
  canonical: { before: "<tool_call>\n", between: "\n</tool_call>\n<tool_call>\n", after: "\n</tool_call>" },
} as const;

export const TOOL_CALL_SYNTAX: Readonly<Record<ToolCallFormat, ToolCallSyntax>> = {
  hermes: { format: "hermes", ...HERMES },
  // The fallback preamble teaches templates that know no tools the Hermes syntax: it is the best known to small models.
  fallback: { format: "fallback", ...HERMES },
  "llama3-json": {
    format: "llama3-json",
    // Llama 3.1-3.3 answer custom tools with the bare object; <|python_tag|> precedes calls in the built-in tool
    // style, and several calls are separated by "; " (as vLLM's llama3_json parser reads them).
    openMarker: null,
    altOpenMarkers: ["<|python_tag|>"],
    closeMarker: null,
    argumentsKey: "parameters",
    array: false,
    canonical: { before: "", between: "; ", after: "" },
  },
  mistral: {
    format: "mistral",
    openMarker: "[TOOL_CALLS]",
    altOpenMarkers: [],
    closeMarker: null,
    argumentsKey: "arguments",
    array: true,
    // Mistral v3 templates write the history's calls as "[TOOL_CALLS] [" + calls joined by ", " + "]".
    canonical: { before: "[TOOL_CALLS] [", between: ", ", after: "]" },
  },
};

/** Every marker text of a syntax: what a row reading its calls must see in its text. */
export function markerTexts(syntax: ToolCallSyntax): string[] {
  return [...openMarkers(syntax), ...(syntax.closeMarker === null ? [] : [syntax.closeMarker])];
}

/** The markers that open a call anywhere in the text (not the bare-object start). */
export function openMarkers(syntax: ToolCallSyntax): string[] {
  return syntax.openMarker === null ? [...syntax.altOpenMarkers] : [syntax.openMarker, ...syntax.altOpenMarkers];
}

// Llama 3.x templates tell the model to 'Respond in the format {"name": function name, "parameters": ...}'.
const LLAMA_JSON_STYLE = /"name"[^}]{0,200}"parameters"/;

/**
 * The format a chat template teaches its model, from marks only that
 * format's templates contain. Hermes first: Hermes-style templates may also
 * spell out "parameters" in their function signatures.
 */
export function detectToolCallFormat(templateSource: string | null): ToolCallFormat {
  if (templateSource === null) return "fallback";
  if (templateSource.includes("<tool_call>")) return "hermes";
  if (templateSource.includes("[TOOL_CALLS]")) return "mistral";
  if (templateSource.includes("<|python_tag|>") || LLAMA_JSON_STYLE.test(templateSource)) return "llama3-json";
  return "fallback";
}
