/**
 * Chat templates come from the model's own files only and are rendered by
 * @huggingface/jinja, an interpreter with no access to the host: a template
 * can fail, never execute code. Failures while rendering a request's messages
 * are the request's fault (400); a template that does not parse is the
 * folder's fault (start-up error).
 */
import { Template, tokenize } from "@huggingface/jinja";
import { invalidRequest } from "../errors.ts";
import type { JsonValue } from "../domain.ts";
import { ModelLoadError } from "./model-load-error.ts";
import { asTokenText, type JsonObject } from "./json-file.ts";
import type { TemplateMessage, TemplateTool } from "./template-input.ts";
import { withToolsAsText } from "./tool-prompt.ts";

/** Variables beyond the messages that Hugging Face templates read; null when the request has none (templates test `is not none`). */
export interface TemplateExtras {
  tools?: TemplateTool[] | null;
  documents?: unknown[] | null;
  /** chat_template_kwargs: extra variables; the protocol layer refuses names the server sets. */
  kwargs?: Record<string, JsonValue>;
}

export interface ChatTemplate {
  /** Messages in the Hugging Face shape (src/model/template-input.ts); a plain ChatMessage without tool fields is one. */
  render(messages: TemplateMessage[], extras?: TemplateExtras): string;
}

/**
 * The folder's templates as one: a list of named templates renders
 * `tool_use` when the request has tools and the list has one, else
 * `default`, as transformers does.
 */
export function compileFolderTemplates(templates: { default: string; toolUse: string | null; file: string }, tokenizerConfig: JsonObject): ChatTemplate {
  const fallback = compileChatTemplate(templates.default, tokenizerConfig, templates.file);
  const toolUse = templates.toolUse === null ? null : compileChatTemplate(templates.toolUse, tokenizerConfig, templates.file);
  return {
    render: (messages, extras = {}) => (toolUse && extras.tools && extras.tools.length > 0 ? toolUse : fallback).render(messages, extras),
  };
}

/**
 * Whether a template reads the `tools` variable (an identifier, not text or
 * a string literal, nor an attribute such as `x.tools`). One that does is
 * trusted to render tools and the tool-call history itself; one that does
 * not gets them as text (src/model/tool-prompt.ts).
 */
export function templateHandlesTools(source: string): boolean {
  const tokens: ReadonlyArray<{ type: string; value: string }> = tokenize(source);
  return tokens.some((t, i) => t.type === "Identifier" && t.value === "tools" && tokens[i - 1]?.type !== "Dot");
}

export function compileChatTemplate(source: string, tokenizerConfig: JsonObject, file: string): ChatTemplate {
  let template: Template;
  try {
    template = new Template(source);
  } catch (error) {
    const line = firstFailingLine(source, (error as Error).message);
    throw new ModelLoadError(file, `chat template does not parse (${(error as Error).message})${line === null ? "" : ` at line ${line} of the template`}`);
  }
  const specials: Record<string, string> = {};
  for (const field of ["bos_token", "eos_token", "unk_token", "pad_token"]) {
    specials[field] = asTokenText(tokenizerConfig[field]) ?? "";
  }
  const handlesTools = templateHandlesTools(source);
  return {
    render(messages, extras = {}) {
      const tools = extras.tools != null && extras.tools.length > 0 ? extras.tools : null;
      const view = handlesTools ? { messages, tools } : { messages: withToolsAsText(messages, tools), tools: null };
      try {
        // strftime_now and raise_exception are @huggingface/jinja built-ins; tools/documents must be null, not undefined, when absent.
        // The kwargs come first so that the server's own variables can never be replaced.
        return template.render({
          ...extras.kwargs,
          messages: view.messages,
          add_generation_prompt: true,
          tools: view.tools,
          documents: extras.documents ?? null,
          ...specials,
        });
      } catch (error) {
        throw invalidRequest(`The model's chat template rejected these messages: ${(error as Error).message}`, "messages");
      }
    },
  };
}

/**
 * @huggingface/jinja's parse errors carry no position. The first line at
 * which the template's leading lines fail to parse with the same error is
 * where it goes wrong (for a block left open: the line that opens it).
 */
function firstFailingLine(source: string, message: string): number | null {
  const lines = source.split("\n");
  for (let n = 1; n <= lines.length; n++) {
    try {
      new Template(lines.slice(0, n).join("\n"));
    } catch (error) {
      if ((error as Error).message === message) return n;
    }
  }
  return null;
}
