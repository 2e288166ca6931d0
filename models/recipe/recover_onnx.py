"""Recover model.py weights from an exported fp32 onnx/model.onnx (for a later training phase when the
checkpoint is gone: work/ is not in the repository, the ONNX file is).

The exporter names the norms and the embedding after their parameters but folds each Linear weight
into an anonymous transposed MatMul initializer ("onnx::MatMul_1508").  To map those without guessing
from the graph, a probe model of the same shape, whose every weight is distinct, is exported by the
same code: its graph must have the same nodes and initializer names as the file's, and each probe
initializer is found among the probe's parameters by value (as is, or transposed).  The file's
initializers are then read into those parameters.  The tied LM head (embedding transposed) is checked
against the embedding, not loaded twice.

  python3 recover_onnx.py --onnx ../tiny-chat/onnx/model.onnx --out work/final.pt
"""
import argparse
import json
import os
import tempfile

import with_torch  # noqa: F401

import numpy as np
import onnx
import torch
from onnx import numpy_helper

from export_onnx import export_onnx
from model import Cfg, Llama
from train import MODEL_SHAPE


def _graph_signature(m):
    return [(n.op_type, tuple(n.input), tuple(n.output)) for n in m.graph.node]


def recover(onnx_path, vocab_size):
    cfg = Cfg(vocab_size=vocab_size, **MODEL_SHAPE)
    probe = Llama(cfg)
    with torch.no_grad():
        for p in probe.parameters():  # distinct values everywhere, so every initializer has one source
            p.copy_(torch.randn_like(p))
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "probe.onnx")
        export_onnx(probe, path)
        pm = onnx.load(path)
    fm = onnx.load(onnx_path)
    if _graph_signature(pm) != _graph_signature(fm):
        raise SystemExit("the file's graph differs from this recipe's export: cannot map its initializers")
    probe_inits = {i.name: numpy_helper.to_array(i) for i in pm.graph.initializer}
    file_inits = {i.name: numpy_helper.to_array(i) for i in fm.graph.initializer}
    if set(probe_inits) != set(file_inits):
        raise SystemExit("initializer names differ")
    params = {n: p.detach().numpy() for n, p in probe.named_parameters()}
    state, tied = {}, []
    for name, arr in probe_inits.items():
        hits = [(pn, False) for pn, pv in params.items() if pv.shape == arr.shape and np.array_equal(pv, arr)]
        hits += [(pn, True) for pn, pv in params.items()
                 if pv.ndim == 2 and pv.T.shape == arr.shape and np.array_equal(pv.T, arr)]
        if len(hits) != 1:
            raise SystemExit(f"initializer {name}: {len(hits)} matching parameters")
        pn, transposed = hits[0]
        value = file_inits[name].T if transposed else file_inits[name]
        if pn in state:
            tied.append((name, pn, float(np.abs(state[pn] - value).max())))
            continue
        state[pn] = value
    missing = set(params) - set(state)
    if missing:
        raise SystemExit(f"parameters not in the file: {sorted(missing)}")
    model = Llama(cfg)
    model.load_state_dict({k: torch.from_numpy(np.ascontiguousarray(v)).float() for k, v in state.items()})
    return model.eval(), tied


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--onnx", required=True)
    ap.add_argument("--out", required=True, help="checkpoint to write (train.py's format)")
    ap.add_argument("--ref", help="also write torch fp32 logits of a few prompts here, for check_logits.mjs")
    ap.add_argument("--tokenizer", help="tokenizer.json, for --ref")
    a = ap.parse_args()
    torch.set_num_threads(2)
    vocab = next(i for i in onnx.load(a.onnx).graph.initializer if i.name == "model.embed_tokens.weight").dims[0]
    model, tied = recover(a.onnx, vocab)
    for name, pn, diff in tied:
        print(json.dumps({"tied": name, "to": pn, "max_abs_diff": diff}))
        assert diff == 0.0, "the LM head is not the embedding"
    torch.save({"state_dict": model.state_dict(), "cfg": model.cfg.to_dict(), "step": 0,
                "elapsed_min": 0.0, "recovered_from": os.path.abspath(a.onnx)}, a.out)
    print(json.dumps({"recovered": a.out, "params": model.num_params()}))
    if a.ref:
        import bpe
        tok = bpe.load_from_json(a.tokenizer)
        convs = [[{"role": "user", "content": "What is 123 + 456?"}],
                 [{"role": "system", "content": "Answer briefly."}, {"role": "user", "content": "请重复：天地山水"}],
                 [{"role": "user", "content": "Reverse the word: hello"}, {"role": "assistant", "content": "olleh"},
                  {"role": "user", "content": "Count from 3 to 8."}]]
        items = []
        with torch.no_grad():
            for msgs in convs:
                ids = tok.encode(bpe.render_chat(msgs, add_generation_prompt=True))
                x = torch.tensor([ids])
                logits, _ = model(x, torch.ones_like(x), torch.arange(len(ids))[None])
                items.append({"ids": ids, "logits": [float(v) for v in logits[0].reshape(-1)]})
        with open(a.ref, "w") as f:
            json.dump({"vocab": vocab, "items": items}, f)


if __name__ == "__main__":
    main()
