/**
 * The template features real Hub models use: strftime_now (Llama 3.x puts
 * today's date in its system header), raise_exception, `tools` and
 * `documents` as null when a request has none, a list of named templates
 * (`tool_use` only with tools), chat_template.jinja before the config's
 * entry, and a template that does not parse failing start-up with its file
 * and line.
 */
import { copyFileSync, cpSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { afterAll, describe, expect, it } from "vitest";
import { defaultConfig } from "../../src/config.ts";
import { OnnxEngine } from "../../src/engine/onnx-engine.ts";
import { ApiError } from "../../src/errors.ts";
import { compileChatTemplate, compileFolderTemplates } from "../../src/model/chat-template.ts";
import { loadModelFolder } from "../../src/model/model-folder.ts";
import { ModelLoadError } from "../../src/model/model-load-error.ts";
import type { TemplateTool } from "../../src/model/template-input.ts";
import { defaultModelPath } from "../support/fixtures.ts";

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
const today = (d: Date): string => `${String(d.getDate()).padStart(2, "0")} ${MONTHS[d.getMonth()]} ${d.getFullYear()}`;

/** The date logic of the Llama 3.x templates, in their style: a date_string from strftime_now when the host provides it. */
const LLAMA3_STYLE = [
  "{{- bos_token }}",
  "{%- if not date_string is defined %}{%- if strftime_now is defined %}{%- set date_string = strftime_now('%d %b %Y') %}",
  "{%- else %}{%- set date_string = '26 Jul 2024' %}{%- endif %}{%- endif %}",
  "{%- if not tools is defined %}{%- set tools = none %}{%- endif %}",
  "{{- '<|start_header_id|>system<|end_header_id|>\\n\\n' }}{{- 'Today Date: ' + date_string + '\\n' }}",
  "{%- if tools is not none %}{{- 'Tools: ' + (tools | length | string) }}{%- endif %}{{- '<|eot_id|>' }}",
  "{%- for m in messages %}{{- '<|start_header_id|>' + m.role + '<|end_header_id|>\\n\\n' + m.content + '<|eot_id|>' }}{%- endfor %}",
  "{%- if add_generation_prompt %}{{- '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}{%- endif %}",
].join("\n");

const user = [{ role: "user" as const, content: "hi" }];
const fn = (name: string): TemplateTool => ({ type: "function", function: { name, parameters: { type: "object", properties: {} } } });
const dirs: string[] = [];
function folderWith(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), "chat-template-"));
  dirs.push(dir);
  cpSync(join(defaultModelPath, "onnx"), join(dir, "onnx"), { recursive: true });
  for (const f of ["config.json", "generation_config.json", "tokenizer.json", "tokenizer_config.json"]) copyFileSync(join(defaultModelPath, f), join(dir, f));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

describe("chat templates", () => {
  it("strftime_now gives a Llama 3.x-style template today's date; tools are none without a request's tools", () => {
    const template = compileChatTemplate(LLAMA3_STYLE, { bos_token: "<|begin_of_text|>" }, "tokenizer_config.json");
    const before = today(new Date());
    const text = template.render(user);
    const after = today(new Date());
    expect([before, after].some((d) => text.includes(`Today Date: ${d}\n`))).toBe(true);
    expect(text.startsWith("<|begin_of_text|><|start_header_id|>system")).toBe(true);
    expect(text).not.toContain("Tools:");
    expect(text.endsWith("<|start_header_id|>assistant<|end_header_id|>\n\n")).toBe(true);
    expect(template.render(user, { tools: [fn("a"), fn("b")] })).toContain("Tools: 2");
  });

  it("tools and documents are null, not undefined, when absent (`is not none` is false)", () => {
    const template = compileChatTemplate("{{ tools is none }}|{{ documents is none }}", {}, "x");
    expect(template.render(user)).toBe("true|true");
    expect(template.render(user, { documents: [{ text: "d" }] })).toBe("true|false");
  });

  it("raise_exception is a 400 at request time with the template's own words", () => {
    const template = compileChatTemplate("{{ raise_exception('Only user and assistant roles are supported') }}", {}, "x");
    let error: unknown;
    try {
      template.render(user);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).status).toBe(400);
    expect((error as ApiError).message).toContain("Only user and assistant roles are supported");
  });

  it("a list of named templates: default, and tool_use only when the request has tools", () => {
    const config = { chat_template: [{ name: "default", template: "D{{ messages | length }}" }, { name: "tool_use", template: "T{{ tools | length }}" }] };
    const dir = folderWith({ "tokenizer_config.json": JSON.stringify(config) });
    const folder = loadModelFolder(dir);
    expect([folder.chatTemplate, folder.toolUseTemplate, folder.chatTemplateFile]).toEqual(["D{{ messages | length }}", "T{{ tools | length }}", join(dir, "tokenizer_config.json")]);
    const template = compileFolderTemplates({ default: folder.chatTemplate!, toolUse: folder.toolUseTemplate, file: folder.chatTemplateFile }, folder.tokenizerConfig);
    expect(template.render(user)).toBe("D1");
    expect(template.render(user, { tools: [] })).toBe("D1");
    expect(template.render(user, { tools: [fn("a"), fn("b"), fn("c")] })).toBe("T3");
  });

  it("chat_template.jinja wins over tokenizer_config's entry", () => {
    const dir = folderWith({ "chat_template.jinja": "J{{ messages[0].content }}" });
    const folder = loadModelFolder(dir);
    expect(folder.chatTemplate).toBe("J{{ messages[0].content }}");
    expect(folder.chatTemplateFile).toBe(join(dir, "chat_template.jinja"));
  });

  it("chat_template.json comes next, before tokenizer_config's entry", () => {
    const dir = folderWith({ "chat_template.json": JSON.stringify({ chat_template: "C{{ messages | length }}" }) });
    const folder = loadModelFolder(dir);
    expect([folder.chatTemplate, folder.chatTemplateFile]).toEqual(["C{{ messages | length }}", join(dir, "chat_template.json")]);
  });

  it("a template that does not parse names its file and line", () => {
    let error: unknown;
    try {
      compileChatTemplate("{{ bos_token }}\n{%- for m in messages %}\n{{ m.content + }}\n{%- endfor %}", {}, "/m/chat_template.jinja");
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ModelLoadError);
    expect((error as Error).message).toBe("/m/chat_template.jinja: chat template does not parse (Unexpected token: CloseExpression) at line 3 of the template");
  });

  it("fails the engine's start with that line, before any request", async () => {
    const dir = folderWith({ "chat_template.jinja": "ok\n{% if messages %}\nno end" });
    const start = OnnxEngine.create({ ...defaultConfig({ modelPath: dir, threads: 1 }), logger: pino({ level: "silent" }) });
    await expect(start).rejects.toThrow(/chat_template\.jinja: chat template does not parse \(.*\) at line 2 of the template/);
  });
});
