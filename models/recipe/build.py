#!/usr/bin/env python3
"""One command: corpus -> tokenizer -> train -> export -> python eval -> node verification.

  python3 models/recipe/build.py --out models/tiny-chat --minutes 55 --then 25@2e-4

The first phase trains the first skills alone (96-token rows); each --then phase continues on them
mixed with the tool skill (rows of --tool-seq tokens, --tool-share of them starting with a tool
conversation).  --init-onnx replaces the first phase by the weights of an exported fp32 model.

Needs Debian's python3-torch / python3-onnx / python3-numpy (if the `python3`
on PATH lacks torch, the script re-runs itself with /usr/bin/python3) and
node with the repository's node_modules for the verification step.
Intermediate files go to models/recipe/work/ (git-ignored).
"""
import argparse
import hashlib
import json
import os
import subprocess
import sys

import with_torch  # noqa: F401  (re-runs under Debian's python3 when torch is missing)

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import bpe  # noqa: E402
import corpus  # noqa: E402

STEPS = ["data", "train", "export", "eval", "verify"]

EXAMPLE_CANDIDATES = [
    ("What is 123 + 456?", "579"), ("Add 12 and 7.", "19"), ("What is 500 minus 23?", "477"),
    ("Compute 81 - 9.", "72"), ("What is 250 + 250?", "500"), ("What is 99 plus 1?", "100"),
    ("Repeat: hello world", "hello world"), ("Reverse the word: hello", "olleh"),
    ("Convert to uppercase: hello world", "HELLO WORLD"), ("Count from 3 to 8.", "3, 4, 5, 6, 7, 8"),
    ("123加456等于多少？", "579"), ("500减23等于多少？", "477"),
    ("请重复：天地山水", "天地山水"), ("请重复：明月春风", "明月春风"), ("跟我说：大山小河", "大山小河"),
    ("请重复：春天花草", "春天花草"), ("你好", "你好！有什么可以帮你的？"),
    ("Hello!", "Hello! How can I help you?"),
]


def sha(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def step_data(a, work):
    os.makedirs(os.path.join(work, "tokenizer"), exist_ok=True)
    cp = os.path.join(work, "corpus.jsonl")
    corpus.write_corpus(cp, a.conversations, a.seed)
    corpus.write_tool_corpus(os.path.join(work, "tools.jsonl"), a.tool_conversations, a.seed)
    corpus.write_heldout(os.path.join(work, "heldout.jsonl"), a.seed)
    wording = corpus.WORDING_TEXT + "\nuser\nassistant\nsystem\n"
    merges = bpe.train_from_corpus(cp, wording, max_merges=400)
    tok = bpe.Tokenizer(merges)
    tok.save(os.path.join(work, "tokenizer"))
    info = {f: sha(os.path.join(work, f))
            for f in ["corpus.jsonl", "tools.jsonl", "heldout.jsonl", "tokenizer/tokenizer.json"]}
    info["merges"] = len(merges)
    info["vocab"] = len(tok.vocab)
    info["special_ids"] = {t: tok.token_id(t) for t in bpe.SPECIALS}
    with open(os.path.join(work, "data_sha256.json"), "w") as f:
        json.dump(info, f, indent=2)
    print(json.dumps(info), flush=True)


def step_eval(a, work):
    import torch
    from export_onnx import load_checkpoint
    from train import evaluate, load_heldout
    torch.set_num_threads(a.threads)
    model = load_checkpoint(os.path.join(work, a.ckpt))
    tok = bpe.load_from_json(os.path.join(a.out, "tokenizer.json"))
    items = load_heldout(os.path.join(work, "heldout.jsonl"))
    acc, results = evaluate(model, tok, items, autocast=False)
    wrong = [{"skill": it["skill"], "q": it["messages"][-1]["content"], "want": it["answer"], "got": got}
             for it, got in results if got != it["answer"]]
    counts = {}
    for it in items:
        counts[it["skill"]] = counts.get(it["skill"], 0) + 1
    name = "eval_fp32.json" if a.ckpt == "final.pt" else f"eval_fp32_{a.ckpt}.json"
    with open(os.path.join(work, name), "w", encoding="utf-8") as f:
        json.dump({"acc": acc, "n": counts, "wrong": wrong}, f, ensure_ascii=False, indent=1)
    print(json.dumps({"heldout_acc_fp32": acc, "n": counts}), flush=True)
    os.makedirs(os.path.join(a.out, "eval"), exist_ok=True)
    with open(os.path.join(a.out, "eval", "heldout.jsonl"), "w", encoding="utf-8") as f:
        for it in items:
            f.write(json.dumps(it, ensure_ascii=False) + "\n")
    # fixed examples: only those the trained model answers exactly
    ex = [{"skill": "example", "messages": [{"role": "user", "content": q}], "answer": ans}
          for q, ans in EXAMPLE_CANDIDATES]
    _, res = evaluate(model, tok, ex, autocast=False)
    good = [it for it, got in res if got == it["answer"]]
    print(json.dumps({"examples_ok": len(good), "examples_failed": [(it["messages"][0]["content"], got)
                      for it, got in res if got != it["answer"]]}, ensure_ascii=False), flush=True)
    with open(os.path.join(a.out, "eval", "examples.jsonl"), "w", encoding="utf-8") as f:
        for it in good:
            f.write(json.dumps(it, ensure_ascii=False) + "\n")
    # fixed tool round trips (get_weather(city) offered): the call, and the answer from the result
    tex = tool_examples()
    _, res = evaluate(model, tok, tex, autocast=False)
    good = [it for it, got in res if got == it["answer"]]
    print(json.dumps({"tool_examples_ok": len(good), "tool_examples_failed": [
        (it["messages"][-1]["content"], got) for it, got in res if got != it["answer"]]}, ensure_ascii=False), flush=True)
    with open(os.path.join(a.out, "eval", "tool_examples.jsonl"), "w", encoding="utf-8") as f:
        for it in good:
            f.write(json.dumps(it, ensure_ascii=False) + "\n")


TOOL_EXAMPLE_CANDIDATES = [
    ("What is the weather in Paris?", "Paris", '{"temperature": 21, "condition": "sunny"}', "It is 21°C and sunny in Paris."),
    ("What's the weather like in Tokyo?", "Tokyo", '{"temperature":18,"condition":"cloudy"}', "It is 18°C and cloudy in Tokyo."),
    ("What is the weather in Oslo?", "Oslo", '{"city":"Oslo","temperature":-3,"condition":"snowy"}', "It is -3°C and snowy in Oslo."),
    ("How is the weather in San Francisco?", "San Francisco", '{"temperature": 15, "condition": "foggy"}',
     "It is 15°C and foggy in San Francisco."),
    ("Weather in London?", "London", '{"temperature": 12}', "It is 12°C in London."),
    ("What is the weather in Berlin?", "Berlin", "9°C, rainy", "It is 9°C and rainy in Berlin."),
]


def tool_examples():
    """Each candidate twice: the call it should make, then (with the call and a result in the history)
    the answer from the result."""
    tools = [corpus.weather_tool()]
    out = []
    for q, city, result, answer in TOOL_EXAMPLE_CANDIDATES:
        call = {"id": "call_0", "type": "function", "function": {"name": corpus.WEATHER_NAME, "arguments": {"city": city}}}
        user = {"role": "user", "content": q}
        out.append({"skill": "tool_call", "tools": tools, "messages": [user], "answer": bpe.tool_call_text(call)})
        out.append({"skill": "tool_answer", "tools": tools, "answer": answer, "messages": [
            user, {"role": "assistant", "content": "", "tool_calls": [call]},
            {"role": "tool", "tool_call_id": "call_0", "content": result}]})
    return out


def write_tok_ref(a, work, n=3000):
    """Python token ids for a corpus sample + Chinese/held-out texts, checked by verify.mjs."""
    tok = bpe.load_from_json(os.path.join(a.out, "tokenizer.json"))
    texts = []
    with open(os.path.join(work, "corpus.jsonl"), encoding="utf-8") as f:
        for i, line in enumerate(f):
            if i >= n:
                break
            texts.append(bpe.render_chat(json.loads(line)))
    with open(os.path.join(work, "tools.jsonl"), encoding="utf-8") as f:
        for i, line in enumerate(f):
            if i >= n // 10:
                break
            conv = json.loads(line)
            texts.append(bpe.render_chat(conv["messages"], tools=conv["tools"]))
    with open(os.path.join(work, "heldout.jsonl"), encoding="utf-8") as f:
        for line in f:
            it = json.loads(line)
            texts.append(bpe.render_chat(it["messages"], add_generation_prompt=True, tools=it.get("tools"))
                         + it["answer"] + "<|im_end|>")
    texts += ["中文测试：你好，世界！今天天气很好。", "请重复：天地山水", "123加456等于多少？", "日本語のテキスト",
              "emoji 😀 and  two  spaces\n\n tabs\tand 'll 's contractions 1234567 ①②",
              " leading space", "trailing space ", "mixed中文and English混合123abc"]
    with open(os.path.join(work, "tok_ref.jsonl"), "w", encoding="utf-8") as f:
        for t in texts:
            f.write(json.dumps({"text": t, "ids": tok.encode(t)}, ensure_ascii=False) + "\n")


def write_template_ref(a, work, n=500):
    """Python renders (bpe.render_chat: the training text) for check_template.ts to compare with the
    template as @huggingface/jinja and the server render it."""
    rows = []
    with open(os.path.join(work, "heldout.jsonl"), encoding="utf-8") as f:
        for line in f:
            it = json.loads(line)
            rows.append((it["messages"], it.get("tools"), True))
    for name in ["corpus.jsonl", "tools.jsonl"]:
        with open(os.path.join(work, name), encoding="utf-8") as f:
            for i, line in enumerate(f):
                if i >= n:
                    break
                conv = json.loads(line)
                msgs, tools = (conv, None) if isinstance(conv, list) else (conv["messages"], conv["tools"])
                rows.append((msgs, tools, False))
                if tools is None:
                    rows.append((msgs[:-1], None, True))
    rows += [(it["messages"], it["tools"], True) for it in tool_examples()]
    # shapes the corpus does not make: text and two calls in one turn, arguments as a JSON string,
    # a function without parameters, tools as bare functions, a null content
    weather = corpus.weather_tool()
    calls = [{"type": "function", "function": {"name": "get_weather", "arguments": {"city": "Oslo", "unit": "celsius"}}},
             {"type": "function", "function": {"name": "get_weather", "arguments": '{"city":"Rome"}'}}]
    odd = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Oslo and Rome?"},
           {"role": "assistant", "content": "Let me look.", "tool_calls": calls},
           {"role": "tool", "content": "5°C"}, {"role": "tool", "content": "20°C"},
           {"role": "assistant", "content": None, "tool_calls": [{"name": "now", "arguments": {}}]}]
    bare = [{"name": "now", "description": "The time."}, weather["function"]]
    rows += [(odd, [weather, {"type": "function", "function": {"name": "now"}}], True), (odd, bare, False),
             (odd, None, True), ([{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}], [], True)]
    with open(os.path.join(work, "template_ref.jsonl"), "w", encoding="utf-8") as f:
        for msgs, tools, gen in rows:
            row = {"messages": msgs, "add_generation_prompt": gen,
                   "text": bpe.render_chat(msgs, add_generation_prompt=gen, tools=tools)}
            if tools is not None:
                row["tools"] = tools
            f.write(json.dumps(row, ensure_ascii=False) + "\n")


def checkpoint(phase):
    return "final.pt" if phase == 1 else f"final{phase}.pt"


def parse_phase(spec, tool_share):
    """MINUTES@LR, or MINUTES@LR@TOOL_SHARE for that phase's own share of tool rows."""
    parts = spec.split("@")
    return float(parts[0]), float(parts[1]), float(parts[2]) if len(parts) > 2 else tool_share


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--minutes", type=float, default=55)
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--conversations", type=int, default=600000)
    ap.add_argument("--tool-conversations", type=int, default=30000)
    ap.add_argument("--tool-share", type=float, default=0.5,
                    help="--then phases: share of rows that start with a tool conversation")
    ap.add_argument("--tool-seq", type=int, default=448, help="--then phases: row length")
    ap.add_argument("--tool-bsz", type=int, default=10, help="--then phases: rows per batch")
    ap.add_argument("--threads", type=int, default=2,
                    help="torch threads for training and eval; 1 is much faster when the cores are shared "
                         "(two OpenMP threads then wait on each other at every op)")
    ap.add_argument("--init-onnx", metavar="MODEL_ONNX",
                    help="instead of training the first phase, recover its weights from this exported fp32 "
                         "onnx/model.onnx (recover_onnx.py) into final.pt")
    ap.add_argument("--work", default=os.path.join(HERE, "work"))
    ap.add_argument("--steps", default=",".join(STEPS))
    ap.add_argument("--ckpt", default="final.pt", help="checkpoint in --work to export/evaluate")
    ap.add_argument("--from-phase", type=int, default=1,
                    help="train from this phase on; the earlier phases' checkpoints are already in --work")
    ap.add_argument("--then", action="append", default=[], metavar="MINUTES@LR[@TOOL_SHARE]",
                    help="a further training phase from the previous phase's weights: fresh AdamW, LR warmed "
                         "up to LR then cosine down over MINUTES, on the first skills mixed with the tool skill "
                         "(TOOL_SHARE of the rows, default --tool-share); repeatable. The last phase's "
                         "checkpoint (final.pt, final2.pt, ...) is exported")
    a = ap.parse_args()
    work = os.path.abspath(a.work)
    a.out = os.path.abspath(a.out)
    os.makedirs(work, exist_ok=True)
    steps = a.steps.split(",")
    py = sys.executable
    if "data" in steps:
        step_data(a, work)
    phases = [parse_phase(p, a.tool_share) for p in a.then]
    if "train" in steps and a.from_phase == 1:
        if a.init_onnx:
            subprocess.run([py, os.path.join(HERE, "recover_onnx.py"), "--onnx", os.path.abspath(a.init_onnx),
                            "--out", os.path.join(work, "final.pt"), "--ref", os.path.join(work, "recover_ref.json"),
                            "--tokenizer", os.path.join(work, "tokenizer", "tokenizer.json")], check=True)
            subprocess.run(["node", os.path.join(HERE, "check_logits.mjs"), os.path.abspath(a.init_onnx),
                            os.path.join(work, "recover_ref.json"), "1e-4"], check=True,
                           cwd=os.path.dirname(os.path.dirname(HERE)))
        else:
            subprocess.run([py, os.path.join(HERE, "train.py"), "--work", work, "--minutes", str(a.minutes),
                            "--seed", str(a.seed), "--threads", str(a.threads)], check=True)
    if "train" in steps:
        for n, (minutes, lr, share) in enumerate(phases, start=2):
            if n < a.from_phase:
                continue
            subprocess.run([py, os.path.join(HERE, "train.py"), "--work", work, "--minutes", str(minutes),
                            "--seed", str(a.seed), "--lr", str(lr), "--init", os.path.join(work, checkpoint(n - 1)),
                            "--phase", str(n), "--eval-every", "8", "--eval-items", "20", "--save-as", checkpoint(n),
                            "--tool-share", str(share), "--seq", str(a.tool_seq), "--bsz", str(a.tool_bsz),
                            "--threads", str(a.threads)],
                           check=True)
    if phases and a.ckpt == "final.pt":
        a.ckpt = checkpoint(len(phases) + 1)
    if "export" in steps:
        subprocess.run([py, os.path.join(HERE, "export_onnx.py"), "--ckpt", os.path.join(work, a.ckpt),
                        "--tokenizer", os.path.join(work, "tokenizer", "tokenizer.json"), "--out", a.out,
                        "--ref", os.path.join(work, "ref.json")], check=True)
    if "eval" in steps:
        step_eval(a, work)
    if "verify" in steps:
        write_template_ref(a, work)
        root = os.path.dirname(os.path.dirname(HERE))
        subprocess.run([os.path.join(root, "node_modules", ".bin", "tsx"), os.path.join(HERE, "check_template.ts"),
                        os.path.join(a.out, "tokenizer_config.json"), os.path.join(work, "template_ref.jsonl")],
                       check=True, cwd=root)
        write_tok_ref(a, work)
        subprocess.run(["node", os.path.join(HERE, "verify.mjs"), a.out, os.path.join(work, "ref.json"),
                        os.path.join(work, "tok_ref.jsonl")], check=True, cwd=os.path.dirname(os.path.dirname(HERE)))


if __name__ == "__main__":
    main()
