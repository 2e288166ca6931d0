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

export interface ChatTemplate {
  render(messages: ChatMessage[]): string;
}

export function compileChatTemplate(source: string, tokenizerConfig: JsonObject, file: string): ChatTemplate {
  let template: Template;
  try {
    template = new Template(source);
  } catch (error) {
    throw new ModelLoadError(file, `chat template does not parse (${(error as Error).message})`);
  }
  const specials: Record<string, string> = {};
  for (const field of ["bos_token", "eos_token", "unk_token", "pad_token"]) {
    specials[field] = asTokenText(tokenizerConfig[field]) ?? "";
  }
  return {
    render(messages) {
      const templateMessages = messages.map((m) => ({
        role: m.role,
        content: m.content,
        ...(m.name !== undefined ? { name: m.name } : {}),
        ...(m.toolCallId !== undefined ? { tool_call_id: m.toolCallId } : {}),
      }));
      try {
        return template.render({ messages: templateMessages, add_generation_prompt: true, ...specials });
      } catch (error) {
        throw invalidRequest(`The model's chat template rejected these messages: ${(error as Error).message}`, "messages");
      }
    },
  };
}
