/**
 * The competitor: transformers.js v4's text-generation pipeline on the same
 * model folder (its onnx/model.onnx, fp32, CPU), in the bench process, with
 * the raw loop's intra-op threads. Greedy (do_sample false), the bench's
 * prompt, max_new_tokens new tokens, and EOS suppressed on every step
 * (suppress_tokens sets its logits to -Infinity, as logit_bias -100 does on
 * the server), so every run is the same length; a run that is not throws.
 *
 * Timing is a streamer's: generate() calls put() once with the prompt before
 * the first forward pass, then once per new token right after sampling it,
 * which is when a streaming client would get it. Decode time runs from the
 * first new token's put() to the last one's, like the server's c=1 stream
 * rate (tokens after the first over first chunk -> final chunk).
 */
import { basename, dirname } from "node:path";
import { env, pipeline, Tensor, TextStreamer, type TextGenerationPipeline } from "@huggingface/transformers";
import type { BenchModel } from "./models.ts";

export interface PipelineRun {
  /** New tokens, the one sampled from the prefill logits included. */
  tokens: number;
  /** Prompt put() to the first new token's. */
  prefillMs: number;
  /** First new token's put() to the last one's. */
  decodeMs: number;
}

/**
 * Records when generate() hands over the prompt and each new token, and does
 * nothing else (no decoding). A TextStreamer only because generate()'s types ask for one.
 */
class StepClock extends TextStreamer {
  readonly stamps: number[] = [];

  override put(): void {
    this.stamps.push(performance.now());
  }

  override end(): void {}
}

export class TransformersJs {
  private constructor(
    private readonly generator: TextGenerationPipeline,
    private readonly model: BenchModel,
    /** The prompt as text when the pipeline's tokenizer turns it back into exactly the prompt ids; else null. */
    private readonly promptText: string | null,
  ) {}

  /** How the prompt goes in: as text through the pipeline, or as ids through its model's generate(). */
  get input(): string {
    return this.promptText !== null ? "pipeline(text)" : "pipeline.model.generate(ids)";
  }

  static async open(model: BenchModel, threads: number): Promise<TransformersJs> {
    env.allowRemoteModels = false;
    env.allowLocalModels = true;
    env.localModelPath = dirname(model.dir);
    const generator = await pipeline("text-generation", basename(model.dir), {
      dtype: "fp32",
      device: "cpu",
      session_options: { intraOpNumThreads: threads },
    });
    const text = generator.tokenizer.decode(model.promptIds);
    const again = generator.tokenizer(text, { add_special_tokens: false }).input_ids as Tensor;
    const same = again.dims[1] === model.promptIds.length && Array.from(again.data as BigInt64Array, Number).every((id, i) => id === model.promptIds[i]);
    // The pipeline adds special tokens only where the tokenizer says so; neither end may change the prompt.
    const adds = generator.tokenizer.add_bos_token === true || generator.tokenizer.add_eos_token === true;
    return new TransformersJs(generator, model, same && !adds ? text : null);
  }

  /** Two whole runs (the first also compiles transformers.js's JavaScript); returns how many runs fill `ms` at the second one's speed. */
  async warmUp(maxNewTokens: number, ms: number): Promise<number> {
    await this.generate(maxNewTokens);
    const run = await this.generate(maxNewTokens);
    return Math.max(1, Math.round(ms / (run.prefillMs + run.decodeMs)));
  }

  async generate(maxNewTokens: number): Promise<PipelineRun> {
    const clock = new StepClock(this.generator.tokenizer);
    const options = { max_new_tokens: maxNewTokens, do_sample: false, suppress_tokens: this.model.eosIds, streamer: clock };
    if (this.promptText !== null) {
      await this.generator(this.promptText, { ...options, return_full_text: false });
    } else {
      const n = this.model.promptIds.length;
      await this.generator.model.generate({
        ...options,
        inputs: new Tensor("int64", BigInt64Array.from(this.model.promptIds, (id) => BigInt(id)), [1, n]),
        attention_mask: new Tensor("int64", new BigInt64Array(n).fill(1n), [1, n]),
      });
    }
    const [prompt, first, ...rest] = clock.stamps;
    const tokens = clock.stamps.length - 1;
    if (tokens !== maxNewTokens || first === undefined) {
      throw new Error(`transformers.js: generated ${tokens} new tokens, expected exactly ${maxNewTokens}`);
    }
    return { tokens, prefillMs: first - prompt, decodeMs: (rest.at(-1) ?? first) - first };
  }

  async dispose(): Promise<void> {
    await this.generator.dispose();
  }
}
