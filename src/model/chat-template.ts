/**
 * Chat templates come from the model's own files only and are rendered by
 * @huggingface/jinja, an interpreter with no access to the host: a template
 * can fail, never execute code. Failures while rendering a request's messages
 * are the request's fault (400); a template that does not parse is the
 * folder's fault (start-up error).
 */
import { Template } from "@huggingface/jinja";
import { invalidRequest } from "../errors.ts";
import { ModelLoadError } from "./model-load-error.ts";
import { asTokenText, type JsonObject } from "./json-file.ts";
import type { ChatMessage } from "../domain.ts";

/** Variables beyond the messages that Hugging Face templates read; null when the request has none (templates test `is not none`). */
export interface TemplateExtras {
  tools?: unknown[] | null;
  documents?: unknown[] | null;
}

export interface ChatTemplate {
  render(messages: ChatMessage[], extras?: TemplateExtras): string;
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
  return {
    render(messages, extras = {}) {
      const templateMessages = messages.map((m) => ({
        role: m.role,
        content: m.content,
        ...(m.name !== undefined ? { name: m.name } : {}),
        ...(m.toolCallId !== undefined ? { tool_call_id: m.toolCallId } : {}),
      }));
      try {
        // strftime_now and raise_exception are @huggingface/jinja built-ins; tools/documents must be null, not undefined, when absent.
        return template.render({
          messages: templateMessages,
          add_generation_prompt: true,
          tools: extras.tools ?? null,
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
