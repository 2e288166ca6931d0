"""Small Llama decoder (RMSNorm, RoPE, SwiGLU, grouped-query attention, tied embeddings).

Parameter names follow Hugging Face LlamaForCausalLM.  forward() takes
input_ids, attention_mask (covering past + new tokens), position_ids and a
list of (past_key, past_value) [batch, kv_heads, past, head_dim]; it returns
logits and the presents (concat(past, new) along the sequence axis).
Key j is visible to query i iff j <= past_len + i and attention_mask[b, j] == 1.
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

NEG = -1e9


class Cfg:
    def __init__(self, vocab_size, hidden_size=192, num_hidden_layers=6, num_attention_heads=4,
                 num_key_value_heads=2, intermediate_size=512, max_position_embeddings=512,
                 rope_theta=10000.0, rms_norm_eps=1e-5, tie_word_embeddings=True, **_):
        self.vocab_size = vocab_size
        self.hidden_size = hidden_size
        self.num_hidden_layers = num_hidden_layers
        self.num_attention_heads = num_attention_heads
        self.num_key_value_heads = num_key_value_heads
        self.intermediate_size = intermediate_size
        self.max_position_embeddings = max_position_embeddings
        self.rope_theta = rope_theta
        self.rms_norm_eps = rms_norm_eps
        self.tie_word_embeddings = tie_word_embeddings
        self.head_dim = hidden_size // num_attention_heads

    def to_dict(self):
        d = dict(self.__dict__)
        d.pop("head_dim")
        return d


class RMSNorm(nn.Module):
    def __init__(self, n, eps):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(n))
        self.eps = eps

    def forward(self, x):
        dt = x.dtype
        x = x.float()
        x = x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps)
        return self.weight * x.to(dt)


def rotate_half(x):
    h = x.shape[-1] // 2
    return torch.cat([-x[..., h:], x[..., :h]], dim=-1)


class Attention(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.nh, self.nkv, self.hd = c.num_attention_heads, c.num_key_value_heads, c.head_dim
        self.q_proj = nn.Linear(c.hidden_size, self.nh * self.hd, bias=False)
        self.k_proj = nn.Linear(c.hidden_size, self.nkv * self.hd, bias=False)
        self.v_proj = nn.Linear(c.hidden_size, self.nkv * self.hd, bias=False)
        self.o_proj = nn.Linear(self.nh * self.hd, c.hidden_size, bias=False)

    def forward(self, x, cos, sin, bias, past):
        b, s = x.shape[0], x.shape[1]
        q = self.q_proj(x).view(b, s, self.nh, self.hd).transpose(1, 2)
        k = self.k_proj(x).view(b, s, self.nkv, self.hd).transpose(1, 2)
        v = self.v_proj(x).view(b, s, self.nkv, self.hd).transpose(1, 2)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        if past is not None:
            k = torch.cat([past[0].to(k.dtype), k], dim=2)
            v = torch.cat([past[1].to(v.dtype), v], dim=2)
        present = (k, v)
        rep = self.nh // self.nkv
        t = k.shape[2]
        kk = k[:, :, None].expand(b, self.nkv, rep, t, self.hd).reshape(b, self.nh, t, self.hd)
        vv = v[:, :, None].expand(b, self.nkv, rep, t, self.hd).reshape(b, self.nh, t, self.hd)
        att = torch.matmul(q, kk.transpose(2, 3)) / math.sqrt(self.hd)
        att = att.float() + bias
        att = torch.softmax(att, dim=-1).to(vv.dtype)
        y = torch.matmul(att, vv).transpose(1, 2).reshape(b, s, self.nh * self.hd)
        return self.o_proj(y), present


class MLP(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.gate_proj = nn.Linear(c.hidden_size, c.intermediate_size, bias=False)
        self.up_proj = nn.Linear(c.hidden_size, c.intermediate_size, bias=False)
        self.down_proj = nn.Linear(c.intermediate_size, c.hidden_size, bias=False)

    def forward(self, x):
        return self.down_proj(F.silu(self.gate_proj(x)) * self.up_proj(x))


class Layer(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.input_layernorm = RMSNorm(c.hidden_size, c.rms_norm_eps)
        self.self_attn = Attention(c)
        self.post_attention_layernorm = RMSNorm(c.hidden_size, c.rms_norm_eps)
        self.mlp = MLP(c)

    def forward(self, x, cos, sin, bias, past):
        a, present = self.self_attn(self.input_layernorm(x), cos, sin, bias, past)
        x = x + a
        x = x + self.mlp(self.post_attention_layernorm(x))
        return x, present


class Llama(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.cfg = c
        self.embed_tokens = nn.Embedding(c.vocab_size, c.hidden_size)
        self.layers = nn.ModuleList([Layer(c) for _ in range(c.num_hidden_layers)])
        self.norm = RMSNorm(c.hidden_size, c.rms_norm_eps)
        inv = 1.0 / (c.rope_theta ** (torch.arange(0, c.head_dim, 2, dtype=torch.float32) / c.head_dim))
        self.register_buffer("inv_freq", inv, persistent=False)
        self.apply(self._init)
        for n, p in self.named_parameters():
            if n.endswith("o_proj.weight") or n.endswith("down_proj.weight"):
                nn.init.normal_(p, std=0.02 / math.sqrt(2 * c.num_hidden_layers))

    @staticmethod
    def _init(m):
        if isinstance(m, (nn.Linear, nn.Embedding)):
            nn.init.normal_(m.weight, std=0.02)

    def forward(self, input_ids, attention_mask, position_ids, past=None):
        x = self.embed_tokens(input_ids)
        freqs = position_ids[..., None].float() * self.inv_freq  # [b, s, hd/2]
        emb = torch.cat([freqs, freqs], dim=-1)[:, None]  # [b, 1, s, hd]
        cos, sin = emb.cos().to(x.dtype), emb.sin().to(x.dtype)
        s = input_ids.shape[1]
        # absolute key index j and query index past_len + i, built from dynamic shapes
        j = torch.cumsum(torch.ones_like(attention_mask[0]), 0) - 1  # [t]
        past_len = j.shape[0] - s
        i = torch.cumsum(torch.ones_like(input_ids[0]), 0) - 1 + past_len  # [s]
        allowed = (j[None, :] <= i[:, None])[None, None] & (attention_mask[:, None, None, :] > 0)
        bias = torch.where(allowed, torch.zeros((), dtype=torch.float32),
                           torch.full((), NEG, dtype=torch.float32))
        presents = []
        for n, layer in enumerate(self.layers):
            x, pr = layer(x, cos, sin, bias, None if past is None else past[n])
            presents.append(pr)
        x = self.norm(x)
        logits = F.linear(x, self.embed_tokens.weight)
        return logits, presents

    def num_params(self):
        return sum(p.numel() for p in self.parameters())


@torch.no_grad()
def greedy_batch(model, tok, prompts, max_new=24, autocast=False):
    """Batched greedy generation with left padding and KV cache. Returns answer strings."""
    im_end = tok.token_id("<|im_end|>")
    eot = tok.token_id("<|endoftext|>")
    ids = [tok.encode(p) for p in prompts]
    L = max(len(x) for x in ids)
    b = len(ids)
    inp = torch.full((b, L), eot, dtype=torch.long)
    mask = torch.zeros((b, L), dtype=torch.long)
    for r, x in enumerate(ids):
        inp[r, L - len(x):] = torch.tensor(x)
        mask[r, L - len(x):] = 1
    pos = (mask.cumsum(1) - 1).clamp(min=0)
    out = [[] for _ in range(b)]
    done = [False] * b
    past = None
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=autocast):
        for _ in range(max_new):
            logits, past = model(inp, mask, pos, past)
            nxt = logits[:, -1].float().argmax(-1)
            for r in range(b):
                if not done[r]:
                    t = int(nxt[r])
                    if t in (im_end, eot):
                        done[r] = True
                    else:
                        out[r].append(t)
            if all(done):
                break
            inp = nxt[:, None]
            mask = torch.cat([mask, torch.ones((b, 1), dtype=torch.long)], 1)
            pos = pos[:, -1:] + 1
    return [tok.decode(o) for o in out]
