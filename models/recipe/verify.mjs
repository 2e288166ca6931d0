// Verifies an exported model folder with node:
//  1. @huggingface/tokenizers ids == python ids (tok_ref.jsonl, if given)
//  2. onnxruntime-node: torch-vs-ORT logits, past length 0, cached == uncached
//     greedy loop, batch of 2 right-padded prompts == each prompt alone.
// usage (from the repository root): node models/recipe/verify.mjs <model_dir> [ref.json] [tok_ref.jsonl]
import fs from "node:fs";
import path from "node:path";
import { createRequire } from "node:module";

const require = createRequire(path.resolve("package.json"));
const ort = require("onnxruntime-node");
const { Tokenizer } = require("@huggingface/tokenizers");

const [dir, refPath, tokRefPath] = process.argv.slice(2);
const cfg = JSON.parse(fs.readFileSync(path.join(dir, "config.json"), "utf8"));
const tj = JSON.parse(fs.readFileSync(path.join(dir, "tokenizer.json"), "utf8"));
const tc = JSON.parse(fs.readFileSync(path.join(dir, "tokenizer_config.json"), "utf8"));
const tok = new Tokenizer(tj, tc);
const L = cfg.num_hidden_layers, KV = cfg.num_key_value_heads;
const HD = cfg.head_dim ?? cfg.hidden_size / cfg.num_attention_heads, V = cfg.vocab_size;
const report = {};
let failed = false;
const check = (name, ok, extra) => {
  report[name] = { ok, ...extra };
  if (!ok) failed = true;
};

// ---- 1. tokenizer parity
const special = {};
for (const t of tj.added_tokens) special[t.content] = t.id;
report.special_ids = special;
if (tokRefPath) {
  const lines = fs.readFileSync(tokRefPath, "utf8").split("\n").filter(Boolean);
  let bad = 0, first = null, roundtrip = 0;
  for (const l of lines) {
    const { text, ids } = JSON.parse(l);
    const got = tok.encode(text).ids;
    if (got.length !== ids.length || got.some((v, i) => v !== ids[i])) {
      bad++;
      first ??= { text, want: ids, got };
    }
    if (tok.decode(ids, { skip_special_tokens: false }) !== text) roundtrip++;
  }
  check("tokenizer_parity", bad === 0, { texts: lines.length, mismatches: bad, first, decode_mismatches: roundtrip });
}

// ---- 2. onnxruntime
const sess = await ort.InferenceSession.create(path.join(dir, "onnx", "model.onnx"));
const i64 = (rows) => new ort.Tensor("int64", BigInt64Array.from(rows.flat().map(BigInt)), [rows.length, rows[0].length]);
const emptyPast = (b) => {
  const p = [];
  for (let i = 0; i < L; i++) p.push([new ort.Tensor("float32", new Float32Array(0), [b, KV, 0, HD]),
    new ort.Tensor("float32", new Float32Array(0), [b, KV, 0, HD])]);
  return p;
};
async function run(ids, mask, pos, past) {
  const feeds = { input_ids: i64(ids), attention_mask: i64(mask), position_ids: i64(pos) };
  for (let i = 0; i < L; i++) {
    feeds[`past_key_values.${i}.key`] = past[i][0];
    feeds[`past_key_values.${i}.value`] = past[i][1];
  }
  const out = await sess.run(feeds);
  const present = [];
  for (let i = 0; i < L; i++) present.push([out[`present.${i}.key`], out[`present.${i}.value`]]);
  return { logits: out.logits, present };
}
const row = (logits, b, s) => {  // logits[b, s, :]
  const [, S] = logits.dims;
  return logits.data.subarray((b * S + s) * V, (b * S + s + 1) * V);
};
const argmax = (a) => a.reduce((bi, v, i) => (v > a[bi] ? i : bi), 0);
const maxdiff = (a, b) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);
const range = (a, n) => Array.from({ length: n }, (_, i) => a + i);

const prompt = refPath && fs.existsSync(refPath) ? JSON.parse(fs.readFileSync(refPath, "utf8")) : null;
const ids0 = prompt ? prompt.ids : tok.encode("<|im_start|>user\nWhat is 123 + 456?<|im_end|>\n<|im_start|>assistant\n").ids;

// (b)+(c): torch vs ORT with past length 0
{
  const { logits, present } = await run([ids0], [ids0.map(() => 1)], [range(0, ids0.length)], emptyPast(1));
  check("past_len_0", logits.dims.join() === [1, ids0.length, V].join() &&
    present[0][0].dims.join() === [1, KV, ids0.length, HD].join(), { logits_dims: logits.dims, present_dims: present[0][0].dims });
  if (prompt) {
    const d = maxdiff(logits.data, prompt.logits);
    check("torch_vs_ort", d < 1e-4, { max_abs_logit_diff: d });
  }
}

// (a) cached greedy == uncached greedy
{
  const steps = 12;
  let seq = [...ids0], past = emptyPast(1), cur = [...ids0], worst = 0, same = true;
  const cachedIds = [], fullIds = [];
  for (let t = 0; t < steps; t++) {
    const tot = seq.length;
    const c = await run([cur], [Array(tot).fill(1)], [range(tot - cur.length, cur.length)], past);
    const lc = row(c.logits, 0, cur.length - 1);
    const f = await run([seq], [Array(tot).fill(1)], [range(0, tot)], emptyPast(1));
    const lf = row(f.logits, 0, tot - 1);
    worst = Math.max(worst, maxdiff(lc, lf));
    const nc = argmax(lc), nf = argmax(lf);
    cachedIds.push(nc); fullIds.push(nf);
    if (nc !== nf) same = false;
    past = c.present; cur = [nc]; seq.push(nc);
  }
  check("cached_vs_uncached", same && worst < 1e-4, { steps, max_abs_logit_diff: worst, ids: cachedIds,
    text: tok.decode(cachedIds, { skip_special_tokens: false }) });
}

// (d) batch of 2 right-padded prompts, decode with holes kept in the mask
{
  const pA = tok.encode("<|im_start|>user\nWhat is 500 minus 23?<|im_end|>\n<|im_start|>assistant\n").ids;
  const pB = tok.encode("<|im_start|>user\nRepeat: hi<|im_end|>\n<|im_start|>assistant\n").ids;
  const La = pA.length, Lb = pB.length, pad = special["<|endoftext|>"];
  const steps = 6;
  // singles (cached)
  const single = async (p) => {
    const outs = [];
    let r = await run([p], [p.map(() => 1)], [range(0, p.length)], emptyPast(1));
    outs.push(Array.from(row(r.logits, 0, p.length - 1)));
    const prefill = Array.from({ length: p.length }, (_, s) => Array.from(row(r.logits, 0, s)));
    let tot = p.length;
    for (let t = 0; t < steps; t++) {
      const nx = argmax(outs[outs.length - 1]);
      tot++;
      r = await run([[nx]], [Array(tot).fill(1)], [[tot - 1]], r.present);
      outs.push(Array.from(row(r.logits, 0, 0)));
    }
    return { outs, prefill };
  };
  const A = await single(pA), B = await single(pB);
  const ids = [pA, [...pB, ...Array(La - Lb).fill(pad)]];
  const mask = [Array(La).fill(1), [...Array(Lb).fill(1), ...Array(La - Lb).fill(0)]];
  let r = await run(ids, mask, [range(0, La), range(0, La)], emptyPast(2));
  let worst = 0;
  for (let s = 0; s < La; s++) worst = Math.max(worst, maxdiff(row(r.logits, 0, s), A.prefill[s]));
  for (let s = 0; s < Lb; s++) worst = Math.max(worst, maxdiff(row(r.logits, 1, s), B.prefill[s]));
  let la = Array.from(row(r.logits, 0, La - 1)), lb = Array.from(row(r.logits, 1, Lb - 1));
  for (let t = 0; t <= steps; t++) {
    worst = Math.max(worst, maxdiff(la, A.outs[t]), maxdiff(lb, B.outs[t]));
    if (t === steps) break;
    const na = argmax(la), nb = argmax(lb);
    mask[0].push(1); mask[1].push(1);
    r = await run([[na], [nb]], mask, [[La + t], [Lb + t]], r.present);
    la = Array.from(row(r.logits, 0, 0)); lb = Array.from(row(r.logits, 1, 0));
  }
  check("batch_right_padding", worst < 1e-4, { lens: [La, Lb], decode_steps: steps, max_abs_logit_diff: worst });
}

console.log(JSON.stringify(report, null, 1));
if (failed) {
  console.error("VERIFY FAILED");
  process.exit(1);
}
console.log("VERIFY OK");
