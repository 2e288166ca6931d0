"""Export a Llama (model.py) into the Optimum / transformers.js folder layout.

  config.json, generation_config.json, tokenizer.json, tokenizer_config.json,
  onnx/model.onnx   (fp32; inputs input_ids, attention_mask, position_ids,
                     past_key_values.N.key/value; outputs logits, present.N.key/value)

Also writes <ref> (JSON): a prompt's ids with torch fp32 logits, for verify.mjs.
Usage: python3 export_onnx.py --ckpt work/final.pt --tokenizer work/tokenizer/tokenizer.json --out ../tiny-chat
"""
import argparse
import json
import os

import torch

import bpe
from model import Cfg, Llama


class OnnxWrapper(torch.nn.Module):
    def __init__(self, model):
        super().__init__()
        self.model = model
        self.n = model.cfg.num_hidden_layers

    def forward(self, input_ids, attention_mask, position_ids, *past_flat):
        past = [(past_flat[2 * i], past_flat[2 * i + 1]) for i in range(self.n)]
        logits, presents = self.model(input_ids, attention_mask, position_ids, past)
        out = [logits]
        for k, v in presents:
            out += [k, v]
        return tuple(out)


def hf_config(cfg, tok):
    eot, ims, ime = (tok.token_id(t) for t in bpe.SPECIALS)
    return {
        "architectures": ["LlamaForCausalLM"], "model_type": "llama",
        "vocab_size": cfg.vocab_size, "hidden_size": cfg.hidden_size,
        "intermediate_size": cfg.intermediate_size, "num_hidden_layers": cfg.num_hidden_layers,
        "num_attention_heads": cfg.num_attention_heads, "num_key_value_heads": cfg.num_key_value_heads,
        "head_dim": cfg.head_dim, "hidden_act": "silu", "max_position_embeddings": cfg.max_position_embeddings,
        "initializer_range": 0.02, "rms_norm_eps": cfg.rms_norm_eps, "rope_theta": cfg.rope_theta,
        "rope_scaling": None, "attention_bias": False, "attention_dropout": 0.0, "mlp_bias": False,
        "pretraining_tp": 1, "tie_word_embeddings": cfg.tie_word_embeddings, "use_cache": True,
        "bos_token_id": ims, "eos_token_id": [ime, eot], "pad_token_id": eot,
        "torch_dtype": "float32", "transformers_version": "4.46.0",
    }


def write_meta(out, cfg, tok):
    os.makedirs(os.path.join(out, "onnx"), exist_ok=True)
    conf = hf_config(cfg, tok)
    with open(os.path.join(out, "config.json"), "w") as f:
        json.dump(conf, f, indent=2)
    gen = {"bos_token_id": conf["bos_token_id"], "eos_token_id": conf["eos_token_id"],
           "pad_token_id": conf["pad_token_id"], "do_sample": False, "transformers_version": "4.46.0"}
    with open(os.path.join(out, "generation_config.json"), "w") as f:
        json.dump(gen, f, indent=2)
    tok.save(out, max_len=cfg.max_position_embeddings)


def export_onnx(model, path, opset=14):
    model = model.float().eval()
    c = model.cfg
    b, s, p = 2, 5, 3  # dummy sizes; all dims are dynamic in the graph
    ids = torch.randint(0, c.vocab_size, (b, s))
    mask = torch.ones(b, p + s, dtype=torch.long)
    pos = torch.arange(p, p + s)[None].expand(b, -1).contiguous()
    past = []
    for _ in range(c.num_hidden_layers):
        past += [torch.randn(b, c.num_key_value_heads, p, c.head_dim) for _ in range(2)]
    in_names = ["input_ids", "attention_mask", "position_ids"]
    out_names = ["logits"]
    dyn = {"input_ids": {0: "batch_size", 1: "sequence_length"},
           "attention_mask": {0: "batch_size", 1: "total_sequence_length"},
           "position_ids": {0: "batch_size", 1: "sequence_length"},
           "logits": {0: "batch_size", 1: "sequence_length"}}
    for i in range(c.num_hidden_layers):
        for kv in ("key", "value"):
            n_in, n_out = f"past_key_values.{i}.{kv}", f"present.{i}.{kv}"
            in_names.append(n_in)
            out_names.append(n_out)
            dyn[n_in] = {0: "batch_size", 2: "past_sequence_length"}
            dyn[n_out] = {0: "batch_size", 2: "total_sequence_length"}
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with torch.no_grad():
        torch.onnx.export(OnnxWrapper(model), tuple([ids, mask, pos] + past), path,
                          input_names=in_names, output_names=out_names, dynamic_axes=dyn,
                          opset_version=opset, do_constant_folding=True)
    import onnx
    m = onnx.load(path)
    onnx.checker.check_model(path if os.path.getsize(path) > 2e9 else m)
    nbytes = os.path.getsize(path)
    return nbytes


@torch.no_grad()
def write_reference(model, tok, path, prompt):
    ids = tok.encode(prompt)
    x = torch.tensor([ids])
    logits, _ = model.float().eval()(x, torch.ones_like(x), torch.arange(len(ids))[None])
    ref = {"prompt": prompt, "ids": ids, "logits": [round(float(v), 6) for v in logits[0].reshape(-1)],
           "vocab": model.cfg.vocab_size}
    with open(path, "w", encoding="utf-8") as f:
        json.dump(ref, f, ensure_ascii=False)


def load_checkpoint(path):
    ck = torch.load(path, map_location="cpu")
    cfg = Cfg(**ck["cfg"])
    model = Llama(cfg)
    model.load_state_dict(ck["state_dict"])
    return model.eval()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ckpt", required=True)
    ap.add_argument("--tokenizer", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--ref", default=None)
    a = ap.parse_args()
    torch.set_num_threads(2)
    model = load_checkpoint(a.ckpt)
    tok = bpe.load_from_json(a.tokenizer)
    write_meta(a.out, model.cfg, tok)
    n = export_onnx(model, os.path.join(a.out, "onnx", "model.onnx"))
    print(json.dumps({"onnx_bytes": n, "params": model.num_params()}))
    if a.ref:
        prompt = bpe.render_chat([{"role": "user", "content": "What is 123 + 456?"}], add_generation_prompt=True)
        write_reference(model, tok, a.ref, prompt)


if __name__ == "__main__":
    main()
