#!/usr/bin/env python3
"""Export an untrained (random, fixed seed) Llama of any shape in the same folder layout.

  python3 models/recipe/export_untrained.py --shape smollm2-135m --out models/.cache/smollm2-135m-shape
  python3 models/recipe/export_untrained.py --config my_shape.json --out models/.cache/my-shape

The tokenizer is the trained tiny-chat tokenizer padded to the shape's vocab
size with plain vocabulary entries "<reserved_N>" that no merge produces, so
every id decodes. Like a real 49k BPE vocabulary (SmolLM2 has 17 added
tokens), they live in the model's vocab, not in added_tokens: 48,741 added
tokens made each @huggingface/tokenizers instance 34 MB and a worker's heap
88 MB, and the bench then measured that heap's garbage collection.
Used to measure speed/memory of realistic shapes; never committed.
"""
import argparse
import json
import os
import sys

import with_torch  # noqa: F401  (re-runs under Debian's python3 when torch is missing)
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import bpe  # noqa: E402
from export_onnx import export_onnx, write_meta  # noqa: E402
from model import Cfg, Llama  # noqa: E402

SHAPES = {
    "smollm2-135m": dict(vocab_size=49152, hidden_size=576, num_hidden_layers=30, num_attention_heads=9,
                         num_key_value_heads=3, intermediate_size=1536, max_position_embeddings=2048,
                         rope_theta=100000.0, rms_norm_eps=1e-5, tie_word_embeddings=True),
    "tiny-chat": dict(vocab_size=414, hidden_size=192, num_hidden_layers=6, num_attention_heads=4,
                      num_key_value_heads=2, intermediate_size=512, max_position_embeddings=512,
                      rope_theta=10000.0, rms_norm_eps=1e-5, tie_word_embeddings=True),
}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--shape", choices=sorted(SHAPES))
    ap.add_argument("--config", help="JSON file with Cfg fields (vocab_size, hidden_size, ...)")
    ap.add_argument("--out", required=True)
    ap.add_argument("--tokenizer", default=os.path.join(HERE, "..", "tiny-chat", "tokenizer.json"))
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    if bool(a.shape) == bool(a.config):
        ap.error("give exactly one of --shape / --config")
    shape = SHAPES[a.shape] if a.shape else json.load(open(a.config))
    torch.set_num_threads(2)
    torch.manual_seed(a.seed)
    base = bpe.load_from_json(a.tokenizer)
    n_base = len(base.vocab) - (len(base.added) - len(bpe.SPECIALS))
    extra = shape["vocab_size"] - n_base
    if extra < 0:
        raise SystemExit(f"vocab_size {shape['vocab_size']} < tokenizer size {n_base}")
    tok = bpe.Tokenizer(base.merges, filler_tokens=extra)
    assert len(tok.vocab) == shape["vocab_size"]
    cfg = Cfg(**shape)
    model = Llama(cfg).eval()
    write_meta(a.out, cfg, tok)
    n = export_onnx(model, os.path.join(a.out, "onnx", "model.onnx"))
    files = sorted(os.listdir(os.path.join(a.out, "onnx")))
    print(json.dumps({"out": a.out, "params": model.num_params(), "onnx_bytes": n, "onnx_files": files,
                      "vocab": len(tok.vocab)}))


if __name__ == "__main__":
    main()
