"""Byte-level BPE tokenizer (GPT-2 style) that writes a Hugging Face tokenizer.json.

Pipeline, matching tokenizers (Rust) / @huggingface/tokenizers (JS):
  added (special) tokens are split out first, then the Digits pre-tokenizer
  (one digit per piece), then the ByteLevel pre-tokenizer (GPT-2 regex, then
  bytes -> printable unicode chars), then BPE merges by rank inside each piece.

Merges are learned only from the fixed wording of the corpus (pre-tokens of
the question templates, greetings, system prompts), and a merged token must
either contain mixed-case ASCII letters or a character that is not an ASCII
letter or the space marker.  Question content (random lowercase words, their
upper-cased answers, digits, Chinese content characters) therefore stays at
(or very near) byte level, so copying unseen words works.
"""
import json
import unicodedata
from collections import Counter

SPECIALS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]

# ChatML, plus tool calling in the Hermes/Qwen2.5 style, kept compact for a 512-token context.
# Without `tools` and without tool turns it renders exactly as the plain ChatML template did:
#   <|im_start|>{role}\n{content}<|im_end|>\n ... [<|im_start|>assistant\n]
# With `tools` (Hugging Face form: [{"type": "function", "function": {name, description, parameters}}]),
# a system turn comes first: the system message's content (if the conversation starts with one) and a
# blank line, "# Tools", one signature line per function (its name and its parameters' names in order,
# "?" after the optional ones, e.g. `get_weather(city, unit?)`), then how to call one. Signatures, not
# the JSON schemas Qwen lists: the byte-level vocabulary spends about one token per byte of JSON, and a
# client's schema (descriptions, "$schema", "additionalProperties") alone can take 300 tokens.
# An assistant turn's `tool_calls` render as <tool_call>{"name": ..., "arguments": ...}</tool_call>
# (arguments: an object through tojson, or a string as given), after the turn's content if any.
# `tool` messages (the results) render as plain ChatML turns of role "tool", as before: Qwen's user-side
# <tool_response>...</tool_response> wrapping would cost 33 byte-level tokens a result, this 10.
TOOLS_HEAD = "# Tools"
TOOLS_TAIL = '\nCall as <tool_call>{"name": ..., "arguments": ...}</tool_call>'
PLAIN_TURN = "{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}"
CHAT_TEMPLATE = (
    "{% if tools %}"
    "{{ '<|im_start|>system\\n' }}"
    "{% if messages[0]['role'] == 'system' %}{{ messages[0]['content'] + '\\n\\n' }}{% endif %}"
    "{{ " + repr(TOOLS_HEAD) + " }}"
    "{% for tool in tools %}"
    "{% if tool['function'] is defined %}{% set fn = tool['function'] %}{% else %}{% set fn = tool %}{% endif %}"
    "{{ '\\n' + fn['name'] + '(' }}"
    "{% if fn['parameters'] is defined and fn['parameters']['properties'] is defined %}"
    "{% if fn['parameters']['required'] is defined %}{% set required = fn['parameters']['required'] %}"
    "{% else %}{% set required = [] %}{% endif %}"
    "{% for name, schema in fn['parameters']['properties'].items() %}"
    "{% if not loop.first %}{{ ', ' }}{% endif %}{{ name }}{% if name not in required %}{{ '?' }}{% endif %}"
    "{% endfor %}"
    "{% endif %}"
    "{{ ')' }}"
    "{% endfor %}"
    "{{ " + repr(TOOLS_TAIL) + " + '<|im_end|>\\n' }}"
    "{% endif %}"
    "{% for message in messages %}"
    "{% if message['role'] == 'system' and loop.first and tools %}"
    "{% elif message['role'] == 'assistant' and message['tool_calls'] %}"
    "{{ '<|im_start|>assistant\\n' }}"
    "{% if message['content'] %}{{ message['content'] + '\\n' }}{% endif %}"
    "{% for tool_call in message['tool_calls'] %}"
    "{% if tool_call['function'] is defined %}{% set call = tool_call['function'] %}{% else %}{% set call = tool_call %}{% endif %}"
    "{% if not loop.first %}{{ '\\n' }}{% endif %}"
    "{{ '<tool_call>{\"name\": ' + (call['name'] | tojson) + ', \"arguments\": ' }}"
    "{% if call['arguments'] is string %}{{ call['arguments'] }}{% else %}{{ call['arguments'] | tojson }}{% endif %}"
    "{{ '}</tool_call>' }}"
    "{% endfor %}"
    "{{ '<|im_end|>\\n' }}"
    "{% else %}" + PLAIN_TURN +
    "{% endif %}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
)


def tojson(x):
    """Jinja's tojson as transformers and @huggingface/jinja write it (", " and ": ", no ASCII escaping)."""
    return json.dumps(x, ensure_ascii=False)


def signature(tool):
    fn = tool["function"] if "function" in tool else tool
    params = fn.get("parameters") or {}
    props = params.get("properties")
    if props is None:
        return fn["name"] + "()"
    required = params.get("required", [])
    return fn["name"] + "(" + ", ".join(k + ("" if k in required else "?") for k in props) + ")"


def tools_block(tools, system=None):
    head = "" if system is None else system + "\n\n"
    return head + TOOLS_HEAD + "".join("\n" + signature(t) for t in tools) + TOOLS_TAIL


def tool_call_text(call):
    fn = call["function"] if "function" in call else call
    args = fn["arguments"] if isinstance(fn["arguments"], str) else tojson(fn["arguments"])
    return '<tool_call>{"name": ' + tojson(fn["name"]) + ', "arguments": ' + args + "}</tool_call>"


def render_segments(messages, add_generation_prompt=False, tools=None):
    """Python equivalent of CHAT_TEMPLATE, as (text, is_answer) pieces: an assistant turn's text and
    its <|im_end|> are answer pieces (the tokens the loss is on), everything else is prompt."""
    out = []
    if tools:
        first_sys = messages and messages[0]["role"] == "system"
        out.append(("<|im_start|>system\n" + tools_block(tools, messages[0]["content"] if first_sys else None)
                    + "<|im_end|>\n", False))
    for i, m in enumerate(messages):
        role = m["role"]
        if role == "system" and i == 0 and tools:
            continue
        if role == "assistant" and m.get("tool_calls"):
            body = (m["content"] + "\n" if m.get("content") else "") + "\n".join(
                tool_call_text(c) for c in m["tool_calls"])
            out += [("<|im_start|>assistant\n", False), (body + "<|im_end|>", True), ("\n", False)]
        else:
            answer = role == "assistant"
            out += [(f"<|im_start|>{role}\n", False), (m["content"] + "<|im_end|>", answer), ("\n", False)]
    if add_generation_prompt:
        out.append(("<|im_start|>assistant\n", False))
    return out


def render_chat(messages, add_generation_prompt=False, tools=None):
    """Python equivalent of CHAT_TEMPLATE."""
    return "".join(t for t, _ in render_segments(messages, add_generation_prompt, tools))


def bytes_to_unicode():
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + \
        list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return {b: chr(c) for b, c in zip(bs, cs)}


B2U = bytes_to_unicode()
U2B = {u: b for b, u in B2U.items()}


def _cls(ch):
    if ch.isspace():
        return "s"
    cat = unicodedata.category(ch)
    if cat[0] == "L":
        return "L"
    if cat[0] == "N":
        return "N"
    return "o"


_CONTRACTIONS = ["'s", "'t", "'re", "'ve", "'m", "'ll", "'d"]


def gpt2_split(text):
    """Emulates the GPT-2 regex:
    's|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+"""
    out, i, n = [], 0, len(text)
    while i < n:
        for c in _CONTRACTIONS:
            if text.startswith(c, i):
                out.append(c)
                i += len(c)
                break
        else:
            j = i + 1 if (text[i] == " " and i + 1 < n and _cls(text[i + 1]) != "s") else i
            k = _cls(text[j])
            if k != "s":
                e = j + 1
                while e < n and _cls(text[e]) == k:
                    e += 1
                out.append(text[i:e])
                i = e
                continue
            e = i
            while e < n and _cls(text[e]) == "s":
                e += 1
            if e < n and e - i > 1:
                e -= 1  # \s+(?!\S): leave one space for the next word
            out.append(text[i:e])
            i = e
    return out


def pretokenize(text):
    """Digits(individual) then ByteLevel(add_prefix_space=False, use_regex=True)."""
    pieces, buf = [], ""
    for ch in text:
        if _cls(ch) == "N":
            if buf:
                pieces.append(buf)
                buf = ""
            pieces.append(ch)
        else:
            buf += ch
    if buf:
        pieces.append(buf)
    out = []
    for p in pieces:
        for w in gpt2_split(p):
            out.append("".join(B2U[b] for b in w.encode("utf-8")))
    return out


def _allowed(tok):
    letters_ok = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZĠ")
    if any(c not in letters_ok for c in tok):
        return True
    return any("a" <= c <= "z" for c in tok) and any("A" <= c <= "Z" for c in tok)


def merge_pair(symbols, a, b):
    """Every non-overlapping occurrence of the pair (a, b), left to right, joined into one symbol."""
    out, i = [], 0
    while i < len(symbols):
        if i + 1 < len(symbols) and symbols[i] == a and symbols[i + 1] == b:
            out.append(a + b)
            i += 2
        else:
            out.append(symbols[i])
            i += 1
    return out


def train_bpe(word_counts, max_merges=400, min_count=2):
    words = {tuple(w): c for w, c in word_counts.items()}
    merges = []
    while len(merges) < max_merges:
        pairs = Counter()
        for w, c in words.items():
            for a, b in zip(w, w[1:]):
                if _allowed(a + b):
                    pairs[(a, b)] += c
        if not pairs:
            break
        (a, b), c = min(pairs.items(), key=lambda kv: (-kv[1], kv[0]))
        if c < min_count:
            break
        merges.append((a, b))
        new = {}
        for w, cnt in words.items():
            merged = tuple(merge_pair(w, a, b))
            new[merged] = new.get(merged, 0) + cnt
        words = new
    return merges


class Tokenizer:
    def __init__(self, merges, extra_tokens=0, filler_tokens=0):
        """extra_tokens: non-special added tokens "<|reserved_N|>" after the specials.
        filler_tokens: plain vocabulary entries "<reserved_N>" after the specials, which no merge
        produces: they pad the vocabulary the way a large trained BPE vocabulary fills it,
        without tens of thousands of added tokens (which tokenizer libraries treat specially)."""
        self.merges = [tuple(m) for m in merges]
        self.ranks = {m: i for i, m in enumerate(self.merges)}
        self.vocab = {B2U[b]: b for b in range(256)}
        for a, b in self.merges:
            self.vocab.setdefault(a + b, len(self.vocab))
        self.added = list(SPECIALS) + [f"<|reserved_{i}|>" for i in range(extra_tokens)]
        for t in self.added:
            self.vocab[t] = len(self.vocab)
        for i in range(filler_tokens):
            self.vocab[f"<reserved_{i}>"] = len(self.vocab)
        self.id_to_tok = {i: t for t, i in self.vocab.items()}
        self.cache = {}

    def token_id(self, t):
        return self.vocab[t]

    def _bpe(self, word):
        if word in self.cache:
            return self.cache[word]
        syms = list(word)
        while len(syms) > 1:
            best, bi = None, None
            for i in range(len(syms) - 1):
                r = self.ranks.get((syms[i], syms[i + 1]))
                if r is not None and (best is None or r < best):
                    best, bi = r, i
            if best is None:
                break
            a, b = self.merges[best]
            syms = merge_pair(syms, a, b)
        ids = [self.vocab[s] for s in syms]
        self.cache[word] = ids
        return ids

    def encode(self, text):
        ids, i, n = [], 0, len(text)
        specials = self.added
        start = 0
        while i < n:
            hit = None
            if text[i] == "<":
                for t in specials:
                    if text.startswith(t, i):
                        hit = t
                        break
            if hit:
                if start < i:
                    for w in pretokenize(text[start:i]):
                        ids += self._bpe(w)
                ids.append(self.vocab[hit])
                i += len(hit)
                start = i
            else:
                i += 1
        if start < n:
            for w in pretokenize(text[start:n]):
                ids += self._bpe(w)
        return ids

    def decode(self, ids):
        out, buf = [], bytearray()
        for i in ids:
            t = self.id_to_tok[i]
            if t in self.added:
                out.append(buf.decode("utf-8", errors="replace"))
                buf = bytearray()
                out.append(t)
            else:
                buf += bytes(U2B[c] for c in t)
        out.append(buf.decode("utf-8", errors="replace"))
        return "".join(out)

    def tokenizer_json(self):
        n_special = len(SPECIALS)
        added = [{"id": self.vocab[t], "content": t, "single_word": False, "lstrip": False,
                  "rstrip": False, "normalized": False, "special": k < n_special}
                 for k, t in enumerate(self.added)]
        base = {t: i for t, i in self.vocab.items() if t not in set(self.added)}
        return {
            "version": "1.0", "truncation": None, "padding": None, "added_tokens": added,
            "normalizer": None,
            "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
                {"type": "Digits", "individual_digits": True},
                {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True}]},
            "post_processor": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": False,
                               "use_regex": True},
            "decoder": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True},
            "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": None,
                      "end_of_word_suffix": None, "fuse_unk": False, "byte_fallback": False,
                      "ignore_merges": False, "vocab": base, "merges": [list(m) for m in self.merges]},
        }

    def tokenizer_config(self, max_len=2048):
        dec = {str(self.vocab[t]): {"content": t, "lstrip": False, "normalized": False, "rstrip": False,
                                    "single_word": False, "special": k < len(SPECIALS)}
               for k, t in enumerate(self.added)}
        return {
            "add_bos_token": False, "add_eos_token": False, "add_prefix_space": False,
            "added_tokens_decoder": dec, "additional_special_tokens": ["<|im_start|>", "<|im_end|>"],
            "bos_token": "<|im_start|>", "eos_token": "<|im_end|>", "pad_token": "<|endoftext|>",
            "unk_token": None, "chat_template": CHAT_TEMPLATE, "clean_up_tokenization_spaces": False,
            "errors": "replace", "model_max_length": max_len, "split_special_tokens": False,
            "tokenizer_class": "PreTrainedTokenizerFast",
        }

    def save(self, out_dir, max_len=2048):
        import os
        with open(os.path.join(out_dir, "tokenizer.json"), "w", encoding="utf-8") as f:
            json.dump(self.tokenizer_json(), f, ensure_ascii=False, indent=1)
        with open(os.path.join(out_dir, "tokenizer_config.json"), "w", encoding="utf-8") as f:
            json.dump(self.tokenizer_config(max_len), f, ensure_ascii=False, indent=2)


def train_from_corpus(corpus_path, wording_text, max_merges=400):
    """Count corpus pre-tokens that belong to the fixed wording, learn merges."""
    wording = set(pretokenize(wording_text))
    counts = Counter()
    with open(corpus_path, encoding="utf-8") as f:
        for line in f:
            for m in json.loads(line):
                text = f"{m['role']}\n{m['content']}"
                for w in pretokenize(text):
                    if w in wording:
                        counts[w] += 1
    return train_bpe(counts, max_merges=max_merges)


def save_merges(path, merges):
    with open(path, "w", encoding="utf-8") as f:
        json.dump([list(m) for m in merges], f, ensure_ascii=False)


def load_from_json(path):
    with open(path, encoding="utf-8") as f:
        tj = json.load(f)
    extra = sum(1 for t in tj["added_tokens"] if not t["special"])
    return Tokenizer(tj["model"]["merges"], extra_tokens=extra)
