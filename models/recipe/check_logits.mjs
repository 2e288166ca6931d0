// ONNX Runtime logits of a model file against torch reference logits (recover_onnx.py --ref):
// the largest |difference| over every prompt position and vocabulary entry.
// usage (from the repository root): node models/recipe/check_logits.mjs <model.onnx> <ref.json> [max_abs]
import fs from "node:fs";
import path from "node:path";
import { createRequire } from "node:module";

const require = createRequire(path.resolve("package.json"));
const ort = require("onnxruntime-node");

const [file, refPath, limitArg] = process.argv.slice(2);
const limit = Number(limitArg ?? "1e-4");
const ref = JSON.parse(fs.readFileSync(refPath, "utf8"));
const sess = await ort.InferenceSession.create(file);
const pastNames = sess.inputNames.filter((n) => n.startsWith("past_key_values."));
const meta = sess.inputMetadata ? Object.fromEntries(sess.inputNames.map((n, i) => [n, sess.inputMetadata[i]])) : {};
let worst = 0;
const perPrompt = [];
for (const { ids, logits } of ref.items) {
  const n = ids.length;
  const i64 = (a) => new ort.Tensor("int64", BigInt64Array.from(a.map(BigInt)), [1, n]);
  const feeds = { input_ids: i64(ids), attention_mask: i64(ids.map(() => 1)), position_ids: i64(ids.map((_, i) => i)) };
  for (const name of pastNames) {
    const shape = meta[name]?.shape ?? [1, 2, 0, 48];
    const heads = typeof shape[1] === "number" ? shape[1] : 2, dim = typeof shape[3] === "number" ? shape[3] : 48;
    feeds[name] = new ort.Tensor("float32", new Float32Array(0), [1, heads, 0, dim]);
  }
  const out = (await sess.run(feeds)).logits.data;
  let d = 0;
  for (let i = 0; i < out.length; i++) d = Math.max(d, Math.abs(out[i] - logits[i]));
  perPrompt.push({ tokens: n, max_abs_logit_diff: d });
  worst = Math.max(worst, d);
}
console.log(JSON.stringify({ file, prompts: perPrompt, max_abs_logit_diff: worst, limit }));
if (!(worst <= limit)) {
  console.error("LOGITS DIFFER");
  process.exit(1);
}
