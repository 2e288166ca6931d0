/**
 * A worker's start-up: load the folder, the tokenizer and the chat
 * template, open the ONNX session, prove that a real forward pass works
 * (/ready must mean "can generate"), and measure how this model batches.
 * Returns the parts the worker serves with and what it tells the engine.
 */
import { detectReasoningTags, promptOpensReasoning } from "../generation/tools/reasoning-tags.ts";
import { compileFolderTemplates } from "../model/chat-template.ts";
import { loadModelFolder } from "../model/model-folder.ts";
import { PromptEncoder } from "../model/prompt-encoder.ts";
import { loadTokenizer } from "../model/tokenizer.ts";
import type { WorkerInit, WorkerModelInfo } from "./messages.ts";
import { ModelRunner } from "./model-runner.ts";
import { describeKvHandling, probeChunkedPrefill, probePlacement } from "./placement-probe.ts";
import { RowStepper } from "./row-stepper.ts";
import { StructuredOutput } from "./structured-output.ts";

export interface WorkerParts {
  /** Whether an encoded chat prompt leaves the model inside its thinking block. */
  opensReasoning: (ids: Int32Array) => boolean;
  runner: ModelRunner;
  encoder: PromptEncoder;
  stepper: RowStepper;
  info: WorkerModelInfo;
}

export async function bootWorker(init: WorkerInit): Promise<WorkerParts> {
  const folder = loadModelFolder(init.modelPath, init.dtype);
  const tokenizer = loadTokenizer(folder);
  const template = folder.chatTemplate
    ? compileFolderTemplates({ default: folder.chatTemplate, toolUse: folder.toolUseTemplate, file: folder.chatTemplateFile }, folder.tokenizerConfig)
    : null;
  const runner = await ModelRunner.create(folder, init);
  await runner.forward(runner.emptyKv(), [folder.special.bos ?? 0]);
  const encoder = new PromptEncoder(tokenizer, template, runner.io.logits.vocabSize);
  const probe = await probePlacement(runner);
  const chunked = await probeChunkedPrefill(runner);
  const structured = StructuredOutput.forModel(folder, runner.io.logits.vocabSize);
  const stepper = new RowStepper(runner, tokenizer, probe.placement, chunked ? init.prefillChunk : Number.POSITIVE_INFINITY, structured);
  const { io } = runner;
  const info: WorkerModelInfo = {
    vocabSize: io.logits.vocabSize,
    tokenizerSize: tokenizer.size,
    maxTokenChars: tokenizer.maxTokenChars,
    inputNames: [io.inputIds.name, io.attentionMask?.name, io.positionIds?.name].filter((n): n is string => !!n),
    outputNames: [io.logits.name],
    kvLayout: io.kv.layout,
    kvDtype: io.kv.dtype,
    idsDtype: io.inputIds.dtype,
    executionProvider: runner.executionProvider,
    intraOpThreads: runner.threads,
    spinning: runner.spinning,
    batchPlacement: probe.placement,
    batchProbe: probe.reason,
    kvHandling: describeKvHandling(probe.placement, runner.io.kv.newPositions),
    chunkedPrefill: chunked,
    structuredOutput: structured.support,
  };
  const tags = detectReasoningTags(folder.chatTemplate);
  const opensReasoning = (ids: Int32Array): boolean => {
    if (!tags) return false;
    // The end of the prompt is enough: the generation prompt's last few tokens hold the tag when it is there.
    const tail = tokenizer.full.decode(Array.from(ids.subarray(Math.max(0, ids.length - 16))), { skip_special_tokens: false });
    return promptOpensReasoning(tail, tags);
  };
  return { runner, encoder, stepper, info, opensReasoning };
}
