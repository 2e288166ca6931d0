/**
 * PromptEncoder: text a user typed is always plain text ("</s>" in a message
 * cannot end a turn), token-id prompts are checked against the model's
 * vocabulary, and template failures are the request's fault (400).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ChatMessage, PromptInput } from "../../src/domain.ts";
import { compileChatTemplate, type ChatTemplate } from "../../src/model/chat-template.ts";
import { loadModelFolder } from "../../src/model/model-folder.ts";
import { PromptEncoder } from "../../src/model/prompt-encoder.ts";
import { loadTokenizer, type LoadedTokenizer } from "../../src/model/tokenizer.ts";
import { fixturePath, haveFixtures } from "../support/fixtures.ts";
import { thrownApiError } from "../support/api-error.ts";

const chat = (...messages: ChatMessage[]): PromptInput => ({ kind: "chat", messages });
const user = (content: string): ChatMessage => ({ role: "user", content });
const assistant = (content: string): ChatMessage => ({ role: "assistant", content });

/** Enough of a tokenizer for paths that fail before encoding anything. */
const noTokenizer = {
  specialTexts: ["</s>"],
  specialIds: new Set([2]),
  size: 10,
  full: { encode: () => ({ ids: [] }) },
  plain: { encode: () => ({ ids: [] }) },
} as unknown as LoadedTokenizer;

describe("PromptEncoder: token-id prompts", () => {
  const encoder = new PromptEncoder(noTokenizer, null, 1000);

  it("passes ids inside the model's vocabulary through", () => {
    expect(encoder.encode({ kind: "tokens", ids: [0, 5, 999] })).toEqual([0, 5, 999]);
  });

  it("rejects ids outside the vocabulary with 400 naming the entry", () => {
    for (const [ids, param] of [
      [[-1], "prompt[0]"],
      [[10 ** 9], "prompt[0]"],
      [[1000], "prompt[0]"],
      [[5, 1000], "prompt[1]"],
      [[1, 2, 1.5], "prompt[2]"],
    ] as Array<[number[], string]>) {
      const error = thrownApiError(() => encoder.encode({ kind: "tokens", ids }));
      expect(error.status).toBe(400);
      expect(error.type).toBe("invalid_request_error");
      expect(error.param).toBe(param);
    }
  });
});

describe("PromptEncoder: chat templates that fail", () => {
  it("chat without a template is a 400 on messages", () => {
    const error = thrownApiError(() => new PromptEncoder(noTokenizer, null, 10).encode(chat(user("hi"))));
    expect(error.status).toBe(400);
    expect(error.param).toBe("messages");
  });

  it("a template that raises is a 400 carrying its message", () => {
    const template = compileChatTemplate(
      "{% if messages[0].role == 'system' %}{{ raise_exception('System role not supported') }}{% endif %}ok",
      {},
      "tokenizer_config.json",
    );
    const encoder = new PromptEncoder(noTokenizer, template, 10);
    const error = thrownApiError(() => encoder.encode(chat({ role: "system", content: "be nice" }, user("hi"))));
    expect(error.status).toBe(400);
    expect(error.param).toBe("messages");
    expect(error.message).toContain("System role not supported");
  });

  it("a template that breaks the content apart is refused when the user typed special text", () => {
    // Dropping the first character cuts the opening fence: the user's text cannot be told apart.
    const template = compileChatTemplate("{{ messages[0].content[1:] }}", {}, "tokenizer_config.json");
    const encoder = new PromptEncoder(noTokenizer, template, 10);
    const error = thrownApiError(() => encoder.encode(chat(user("x </s> y"))));
    expect(error.status).toBe(400);
    expect(error.param).toBe("messages");
  });
});

/** User text drawn from words, spaces, special-token texts and non-ASCII, with no outer whitespace. */
const content = (specials: string[]): fc.Arbitrary<string> =>
  fc
    .array(fc.constantFrom("hello", "world", " ", " ", "\n", ",", "é", "你好", "😀", "[INST]", "<", ">", ...specials), {
      minLength: 1,
      maxLength: 12,
    })
    .map((parts) => parts.join("").trim())
    .filter((s) => s.length > 0);

describe.skipIf(!haveFixtures)("PromptEncoder with the Llama fixture (SentencePiece-style, chat template)", () => {
  let tok: LoadedTokenizer;
  let template: ChatTemplate;
  let encoder: PromptEncoder;
  const plain = (text: string): number[] => tok.plain.encode(text, { add_special_tokens: false }).ids;
  beforeAll(() => {
    const folder = loadModelFolder(fixturePath("tiny-random-LlamaForCausalLM-fp32-reconstructed"));
    tok = loadTokenizer(folder);
    template = compileChatTemplate(folder.chatTemplate!, folder.tokenizerConfig, "tokenizer_config.json");
    encoder = new PromptEncoder(tok, template, 32000);
  });

  it("the fixture's tokenizer knows <s> = 1 and </s> = 2 as special tokens", () => {
    expect(tok.full.token_to_id("<s>")).toBe(1);
    expect(tok.full.token_to_id("</s>")).toBe(2);
    expect(tok.full.encode("a </s> b", { add_special_tokens: false }).ids).toContain(2);
  });

  it("a text prompt gets BOS, and typed special text is plain text", () => {
    const text = "hello </s> world <s> and <unk>";
    const ids = encoder.encode({ kind: "text", text });
    expect(ids[0]).toBe(1);
    expect(ids.slice(1)).toEqual(plain(text));
    for (const special of [0, 1, 2]) expect(ids.slice(1)).not.toContain(special);
  });

  it("typed special text in a chat message is plain text; the template's own specials stay special", () => {
    const ids = encoder.encode(chat(user("hello </s> world <s>")));
    // "<s>[INST] hello </s> world <s> [/INST]": only the template's <s> is a control token.
    expect(ids).toEqual([1, ...plain("[INST] hello </s> world <s> [/INST]")]);
    expect(ids.filter((id) => id === 1)).toHaveLength(1);
    expect(ids).not.toContain(2);
  });

  it("encodes a conversation as the full tokenizer encodes its plain render, whether or not special text was typed", () => {
    fc.assert(
      fc.property(content(["</s>", "<s>", "<unk>"]), content(["</s>", "<s>"]), content(["</s>"]), (a, b, c) => {
        const ids = encoder.encode(chat(user(a), assistant(b), user(c)));
        // Template: <s>[INST] a [/INST] b </s><s>[INST] c [/INST]
        const expected = [1, ...plain(`[INST] ${a} [/INST] ${b} `), 2, 1, ...plain(`[INST] ${c} [/INST]`)];
        expect(ids).toEqual(expected);
        expect(ids.filter((id) => id === 1)).toHaveLength(2);
        expect(ids.filter((id) => id === 2)).toHaveLength(1);
        expect(ids).not.toContain(0);
      }),
      { numRuns: 200 },
    );
  });

  it("without typed special text the ids are the full tokenizer's encoding of the render", () => {
    const messages = [user("hi there"), assistant("hello"), user("what's up, 你好?")];
    expect(encoder.encode(chat(...messages))).toEqual(
      tok.full.encode(template.render(messages), { add_special_tokens: false }).ids,
    );
  });

  it("roles that do not alternate make the template raise: 400", () => {
    const error = thrownApiError(() => encoder.encode(chat(user("a"), user("b"))));
    expect(error.status).toBe(400);
    expect(error.param).toBe("messages");
  });
});

describe.skipIf(!haveFixtures)("PromptEncoder with the gpt2 fixture (byte-level BPE) and a compiled template", () => {
  let tok: LoadedTokenizer;
  let encoder: PromptEncoder;
  const EOT = 50256;
  const plain = (text: string): number[] => tok.plain.encode(text, { add_special_tokens: false }).ids;
  beforeAll(() => {
    tok = loadTokenizer(loadModelFolder(fixturePath("tiny-random-gpt2-fp32")));
    const template = compileChatTemplate(
      "{% for m in messages %}{{ eos_token }}{{ m.role }}: {{ m.content }}\n{% endfor %}" +
        "{% if add_generation_prompt %}{{ eos_token }}assistant:{% endif %}",
      { eos_token: "<|endoftext|>" },
      "chat_template.jinja",
    );
    encoder = new PromptEncoder(tok, template, tok.size);
  });

  it("typed <|endoftext|> is plain text, and words keep their leading-space tokens after the template's text", () => {
    const ids = encoder.encode(chat(user("hello <|endoftext|> world")));
    expect(ids).toEqual([EOT, ...plain("user: hello <|endoftext|> world\n"), EOT, ...plain("assistant:")]);
    expect(ids.filter((id) => id === EOT)).toHaveLength(2);
    // " hello" is one token, as in a plain render, not " " + "hello".
    expect(ids).toContain(tok.full.token_to_id("Ġhello"));
  });

  it("encodes any conversation as the full tokenizer encodes its plain render, typed specials as text", () => {
    fc.assert(
      fc.property(content(["<|endoftext|>"]), content(["<|endoftext|>"]), (a, b) => {
        const ids = encoder.encode(chat(user(a), assistant(b)));
        const expected = [EOT, ...plain(`user: ${a}\n`), EOT, ...plain(`assistant: ${b}\n`), EOT, ...plain("assistant:")];
        expect(ids).toEqual(expected);
        expect(ids.filter((id) => id === EOT)).toHaveLength(3);
      }),
      { numRuns: 200 },
    );
  });
});

describe.skipIf(!haveFixtures)("PromptEncoder: special tokens that strip whitespace (lstrip / rstrip)", () => {
  let dir: string;
  let tok: LoadedTokenizer;
  beforeAll(() => {
    // The gpt2 tokenizer with <|endoftext|> marked lstrip + rstrip, as some chat models mark their turn tokens.
    const folder = loadModelFolder(fixturePath("tiny-random-gpt2-fp32"));
    const json = JSON.parse(readFileSync(folder.tokenizerPath, "utf8")) as { added_tokens: Array<Record<string, unknown>> };
    for (const t of json.added_tokens) if (t.content === "<|endoftext|>") Object.assign(t, { lstrip: true, rstrip: true });
    dir = mkdtempSync(join(tmpdir(), "prompt-encoder-"));
    writeFileSync(join(dir, "tokenizer.json"), JSON.stringify(json));
    tok = loadTokenizer({ ...folder, tokenizerPath: join(dir, "tokenizer.json") });
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("trims around the template's special tokens as the full tokenizer would, user-typed ones stay text", () => {
    const template = compileChatTemplate(
      "{{ eos_token }}{% for m in messages %}{{ m.role }}: {{ m.content }} {{ eos_token }} {% endfor %}",
      { eos_token: "<|endoftext|>" },
      "chat_template.jinja",
    );
    const encoder = new PromptEncoder(tok, template, tok.size);
    const plain = (text: string): number[] => tok.plain.encode(text, { add_special_tokens: false }).ids;
    const messages = [user("hi there"), user("a <|endoftext|> b")];
    // Without typed specials the full tokenizer trims the spaces next to each <|endoftext|>.
    expect(encoder.encode(chat(messages[0]))).toEqual(
      tok.full.encode(template.render([messages[0]]), { add_special_tokens: false }).ids,
    );
    expect(encoder.encode(chat(messages[0]))).toEqual([50256, ...plain("user: hi there"), 50256]);
    expect(encoder.encode(chat(...messages))).toEqual([
      50256,
      ...plain("user: hi there"),
      50256,
      ...plain("user: a <|endoftext|> b"),
      50256,
    ]);
  });
});
