/**
 * The chat template as the server renders it against the recipe's Python renderer
 * (bpe.render_chat, which writes the training text):
 *  - every item of <ref.jsonl> ({messages, tools?, add_generation_prompt, text}) rendered by
 *    @huggingface/jinja with Hugging Face variables equals `text`;
 *  - items without tools and without tool turns, rendered by the server's own renderer
 *    (src/model/chat-template.ts), equal plain ChatML, and the render of [OLD_TOKENIZER_CONFIG]'s
 *    template when one is given (the template before tools: those prompts must not change).
 *
 *   npx tsx models/recipe/check_template.ts models/tiny-chat/tokenizer_config.json work/template_ref.jsonl [old_tokenizer_config.json]
 */
import { readFileSync } from "node:fs";
import { Template } from "@huggingface/jinja";
import { compileChatTemplate } from "../../src/model/chat-template.ts";
import type { ChatMessage } from "../../src/domain.ts";

interface RefItem {
  messages: Array<{ role: string; content: string | null; tool_calls?: unknown[] }>;
  tools?: unknown[];
  add_generation_prompt: boolean;
  text: string;
}

const [configPath, refPath, oldConfigPath] = process.argv.slice(2);
const config = JSON.parse(readFileSync(configPath, "utf8"));
const items = readFileSync(refPath, "utf8").split("\n").filter((l) => l.trim()).map((l) => JSON.parse(l) as RefItem);
const hf = new Template(config.chat_template);
const server = compileChatTemplate(config.chat_template, config, configPath);
const oldConfig = oldConfigPath ? JSON.parse(readFileSync(oldConfigPath, "utf8")) : null;
const oldServer = oldConfig ? compileChatTemplate(oldConfig.chat_template, oldConfig, oldConfigPath) : null;

const plainChatml = (messages: ChatMessage[]): string => messages.map((m) => `<|im_start|>${m.role}\n${m.content}<|im_end|>\n`).join("") + "<|im_start|>assistant\n";
const report = { items: items.length, python_vs_jinja_mismatches: 0, plain_items: 0, server_vs_chatml_mismatches: 0, server_vs_old_mismatches: 0, first: null as unknown };
for (const item of items) {
  const got = hf.render({ messages: item.messages, tools: item.tools ?? null, add_generation_prompt: item.add_generation_prompt, bos_token: "<|im_start|>", eos_token: "<|im_end|>" });
  if (got !== item.text) {
    report.python_vs_jinja_mismatches++;
    report.first ??= { want: item.text, got };
  }
  const plain = !item.tools && item.messages.every((m) => !m.tool_calls && typeof m.content === "string");
  if (!plain || !item.add_generation_prompt) continue;
  report.plain_items++;
  const messages = item.messages as ChatMessage[];
  const rendered = server.render(messages);
  if (rendered !== plainChatml(messages) || rendered !== item.text) report.server_vs_chatml_mismatches++;
  if (oldServer && oldServer.render(messages) !== rendered) report.server_vs_old_mismatches++;
}
console.log(JSON.stringify(report, null, 1));
if (report.python_vs_jinja_mismatches + report.server_vs_chatml_mismatches + report.server_vs_old_mismatches > 0 || report.plain_items === 0) {
  console.error("TEMPLATE CHECK FAILED");
  process.exit(1);
}
console.log("TEMPLATE OK");
