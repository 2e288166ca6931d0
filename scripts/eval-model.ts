/**
 * Per-skill accuracy of a model on its held-out split, through the server's
 * own engine (worker threads, batching, greedy decoding). An item is right
 * when the assistant's answer equals the expected text exactly.
 *
 * Items with `tools` (tiny-chat's tool skill) are in the Hugging Face form
 * the chat template reads: `tools` = [{type, function}], assistant turns
 * with `tool_calls` = [{id, type, function: {name, arguments: object}}],
 * `tool` turns. They are rendered by the model's own template with those
 * variables and encoded as the prompt encoder encodes a render (the full
 * tokenizer, no added specials), then sent as token ids, so the eval does
 * not depend on how the request layer maps tools.
 *
 *   npm run eval                       # models/tiny-chat
 *   npm run eval -- --model DIR --heldout FILE --limit 20
 *   npm run eval -- --dtype q4          # the folder's q4 file (npm run optimize writes it)
 */
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { Template } from "@huggingface/jinja";
import pino from "pino";
import { defaultConfig, MODEL_DTYPES } from "../src/config.ts";
import { OnnxEngine } from "../src/engine/onnx-engine.ts";
import type { ChatMessage, PromptInput, ValidGenerationRequest } from "../src/domain.ts";
import { asTokenText } from "../src/model/json-file.ts";
import { loadModelFolder } from "../src/model/model-folder.ts";
import { loadTokenizer } from "../src/model/tokenizer.ts";

interface HeldoutItem {
  skill: string;
  messages: ChatMessage[];
  answer: string;
  tools?: unknown[];
}

const { values } = parseArgs({
  options: {
    model: { type: "string", default: "models/tiny-chat" },
    dtype: { type: "string", default: "fp32" },
    heldout: { type: "string" },
    limit: { type: "string" },
    "max-tokens": { type: "string", default: "128" },
    "show-errors": { type: "string", default: "3" },
  },
});
const modelPath = resolve(values.model!);
const items = readFileSync(values.heldout ?? join(modelPath, "eval/heldout.jsonl"), "utf8")
  .split("\n")
  .filter((l) => l.trim().length > 0)
  .map((l) => JSON.parse(l) as HeldoutItem);
const limit = values.limit ? Number(values.limit) : Number.POSITIVE_INFINITY;
const bySkill = new Map<string, HeldoutItem[]>();
for (const item of items) {
  const list = bySkill.get(item.skill) ?? [];
  if (list.length < limit) list.push(item);
  bySkill.set(item.skill, list);
}

const dtype = MODEL_DTYPES.find((d) => d === values.dtype);
if (dtype === undefined) throw new Error(`--dtype: expected ${MODEL_DTYPES.join(", ")}, got ${values.dtype}`);
const engine = await OnnxEngine.create({
  ...defaultConfig({ modelPath, dtype, threads: 2, maxBatchSize: 32, maxQueue: 100_000, maxTokensInFlight: 1 << 20 }),
  logger: pino({ level: "warn" }),
});

const folder = loadModelFolder(modelPath);
const toolTemplate = folder.chatTemplate === null ? null : new Template(folder.toolUseTemplate ?? folder.chatTemplate);
const tokenizer = loadTokenizer(folder);
const specials = Object.fromEntries(["bos_token", "eos_token", "unk_token", "pad_token"].map((k) => [k, asTokenText(folder.tokenizerConfig[k]) ?? ""]));

function promptOf(item: HeldoutItem): PromptInput {
  if (item.tools === undefined) return { kind: "chat", messages: item.messages };
  if (toolTemplate === null) throw new Error(`${modelPath} has no chat template for the tool items`);
  const text = toolTemplate.render({ messages: item.messages, tools: item.tools, add_generation_prompt: true, documents: null, ...specials });
  return { kind: "tokens", ids: tokenizer.full.encode(text, { add_special_tokens: false }).ids };
}

async function answer(item: HeldoutItem, index: number): Promise<string> {
  const request: ValidGenerationRequest = {
    prompt: promptOf(item),
    sampling: { temperature: 0, topP: 1, topK: 0, minP: 0, seed: null, presencePenalty: 0, frequencyPenalty: 0, repetitionPenalty: 1, logitBias: [] },
    maxTokens: Number(values["max-tokens"]),
    stop: [],
    n: 1,
    logprobs: null,
    promptParam: "messages",
    constraint: null,
    tools: null,
  };
  const generation = await engine.start(request, { id: `eval-${index}`, signal: new AbortController().signal });
  let text = "";
  for await (const event of generation.events) {
    if (event.type === "delta") text += event.text;
    if (event.type === "error") throw event.error;
  }
  return text;
}

const started = Date.now();
const rows: Array<{ skill: string; correct: number; total: number }> = [];
let index = 0;
for (const [skill, list] of bySkill) {
  const answers = await Promise.all(list.map((item) => answer(item, index++)));
  const wrong = list.map((item, i) => ({ item, got: answers[i] })).filter(({ item, got }) => got !== item.answer);
  rows.push({ skill, correct: list.length - wrong.length, total: list.length });
  for (const { item, got } of wrong.slice(0, Number(values["show-errors"]))) {
    console.log(`  ${skill}: ${JSON.stringify(item.messages.at(-1)!.content)} expected ${JSON.stringify(item.answer)} got ${JSON.stringify(got)}`);
  }
}
await engine.close(0);

console.log(`\nHeld-out accuracy of ${modelPath}, ${dtype} (greedy, through the server's engine, ${((Date.now() - started) / 1000).toFixed(1)} s)`);
console.log("| skill | correct | total | accuracy |");
console.log("|---|---:|---:|---:|");
for (const r of rows) console.log(`| ${r.skill} | ${r.correct} | ${r.total} | ${((100 * r.correct) / r.total).toFixed(1)}% |`);
