#!/usr/bin/env python3
"""One command: corpus -> tokenizer -> train -> export -> python eval -> node verification.

  python3 models/recipe/build.py --out models/tiny-chat --minutes 85 --then 7.5@3e-4 --then 55@5e-4 --then 10@1.5e-4 --then 25@3e-4

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
    corpus.write_heldout(os.path.join(work, "heldout.jsonl"), a.seed)
    wording = corpus.WORDING_TEXT + "\nuser\nassistant\nsystem\n"
    merges = bpe.train_from_corpus(cp, wording, max_merges=400)
    tok = bpe.Tokenizer(merges)
    tok.save(os.path.join(work, "tokenizer"))
    info = {f: sha(os.path.join(work, f)) for f in ["corpus.jsonl", "heldout.jsonl", "tokenizer/tokenizer.json"]}
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
    torch.set_num_threads(2)
    model = load_checkpoint(os.path.join(work, a.ckpt))
    tok = bpe.load_from_json(os.path.join(a.out, "tokenizer.json"))
    items = load_heldout(os.path.join(work, "heldout.jsonl"))
    acc, results = evaluate(model, tok, items, autocast=False)
    wrong = [{"skill": it["skill"], "q": it["messages"][0]["content"], "want": it["answer"], "got": got}
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


def write_tok_ref(a, work, n=3000):
    """Python token ids for a corpus sample + Chinese/held-out texts, checked by verify.mjs."""
    tok = bpe.load_from_json(os.path.join(a.out, "tokenizer.json"))
    texts = []
    with open(os.path.join(work, "corpus.jsonl"), encoding="utf-8") as f:
        for i, line in enumerate(f):
            if i >= n:
                break
            texts.append(bpe.render_chat(json.loads(line)))
    with open(os.path.join(work, "heldout.jsonl"), encoding="utf-8") as f:
        for line in f:
            it = json.loads(line)
            texts.append(bpe.render_chat(it["messages"], add_generation_prompt=True) + it["answer"] + "<|im_end|>")
    texts += ["中文测试：你好，世界！今天天气很好。", "请重复：天地山水", "123加456等于多少？", "日本語のテキスト",
              "emoji 😀 and  two  spaces\n\n tabs\tand 'll 's contractions 1234567 ①②",
              " leading space", "trailing space ", "mixed中文and English混合123abc"]
    with open(os.path.join(work, "tok_ref.jsonl"), "w", encoding="utf-8") as f:
        for t in texts:
            f.write(json.dumps({"text": t, "ids": tok.encode(t)}, ensure_ascii=False) + "\n")


def checkpoint(phase):
    return "final.pt" if phase == 1 else f"final{phase}.pt"


def parse_phase(spec):
    minutes, lr = spec.split("@")
    return float(minutes), float(lr)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--minutes", type=float, default=55)
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--conversations", type=int, default=600000)
    ap.add_argument("--work", default=os.path.join(HERE, "work"))
    ap.add_argument("--steps", default=",".join(STEPS))
    ap.add_argument("--ckpt", default="final.pt", help="checkpoint in --work to export/evaluate")
    ap.add_argument("--then", action="append", default=[], metavar="MINUTES@LR",
                    help="a further training phase from the previous phase's weights: fresh AdamW, LR warmed "
                         "up to LR then cosine down over MINUTES; repeatable. The last phase's checkpoint "
                         "(final.pt, final2.pt, ...) is exported")
    a = ap.parse_args()
    work = os.path.abspath(a.work)
    a.out = os.path.abspath(a.out)
    os.makedirs(work, exist_ok=True)
    steps = a.steps.split(",")
    py = sys.executable
    if "data" in steps:
        step_data(a, work)
    phases = [parse_phase(p) for p in a.then]
    if "train" in steps:
        subprocess.run([py, os.path.join(HERE, "train.py"), "--work", work, "--minutes", str(a.minutes),
                        "--seed", str(a.seed)], check=True)
        for n, (minutes, lr) in enumerate(phases, start=2):
            subprocess.run([py, os.path.join(HERE, "train.py"), "--work", work, "--minutes", str(minutes),
                            "--seed", str(a.seed), "--lr", str(lr), "--init", os.path.join(work, checkpoint(n - 1)),
                            "--phase", str(n), "--eval-every", "5", "--save-as", checkpoint(n)], check=True)
    if phases and a.ckpt == "final.pt":
        a.ckpt = checkpoint(len(phases) + 1)
    if "export" in steps:
        subprocess.run([py, os.path.join(HERE, "export_onnx.py"), "--ckpt", os.path.join(work, a.ckpt),
                        "--tokenizer", os.path.join(work, "tokenizer", "tokenizer.json"), "--out", a.out,
                        "--ref", os.path.join(work, "ref.json")], check=True)
    if "eval" in steps:
        step_eval(a, work)
    if "verify" in steps:
        write_tok_ref(a, work)
        subprocess.run(["node", os.path.join(HERE, "verify.mjs"), a.out, os.path.join(work, "ref.json"),
                        os.path.join(work, "tok_ref.jsonl")], check=True, cwd=os.path.dirname(os.path.dirname(HERE)))


if __name__ == "__main__":
    main()
