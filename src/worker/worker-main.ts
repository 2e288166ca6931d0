/**
 * Entry point of a model worker thread: loads the folder, proves a real
 * forward pass works, then serves encode and step messages from the engine.
 */
import { parentPort, receiveMessageOnPort, workerData } from "node:worker_threads";
import { ApiError } from "../errors.ts";
import { compileChatTemplate } from "../model/chat-template.ts";
import { loadModelFolder } from "../model/model-folder.ts";
import { PromptEncoder } from "../model/prompt-encoder.ts";
import { loadTokenizer } from "../model/tokenizer.ts";
import type { FromWorker, ToWorker, WorkerInit } from "./messages.ts";
import { ModelRunner } from "./model-runner.ts";
import { probeChunkedPrefill, probePlacement } from "./placement-probe.ts";
import { RowStepper } from "./row-stepper.ts";

const port = parentPort;
if (!port) throw new Error("worker-main must run in a worker thread");
const post = (message: FromWorker, transfer: ArrayBuffer[] = []): void => port.postMessage(message, transfer);

async function start(init: WorkerInit): Promise<void> {
  const folder = loadModelFolder(init.modelPath);
  const tokenizer = loadTokenizer(folder);
  const template = folder.chatTemplate
    ? compileChatTemplate(folder.chatTemplate, folder.tokenizerConfig, `${folder.dir}/tokenizer_config.json`)
    : null;
  const runner = await ModelRunner.create(folder, { device: init.device, threads: init.threads, cores: init.cores, spinning: init.ortSpinning });
  // A real forward pass before reporting ready: /ready must mean "can generate".
  await runner.forward(runner.emptyKv(), [folder.special.bos ?? 0]);
  const encoder = new PromptEncoder(tokenizer, template, runner.io.logits.vocabSize);
  const probe = await probePlacement(runner);
  const chunked = await probeChunkedPrefill(runner);
  const stepper = new RowStepper(runner, tokenizer, probe.placement, chunked ? init.prefillChunk : Number.POSITIVE_INFINITY);

  // Steps run back to back while there are rows: the engine is told of each
  // step's tokens but is never waited for. Control messages land between steps.
  // Native runs must never be cut off mid-flight (onnxruntime-node aborts
  // the process when its callback finds the thread gone), so shutdown and
  // the test-only crash wait for the boundary between two steps.
  let looping = false;
  let stepId = 0;
  let boundary: "shutdown" | "crash" | null = null;
  const atBoundary = (): void => {
    if (boundary === "crash") throw new Error("fault injection: worker crash requested");
    if (boundary === "shutdown") {
      stepper.dropAll();
      void runner.release().finally(() => port!.close());
    }
  };
  const runSteps = async (): Promise<void> => {
    looping = true;
    while (stepper.hasWork && boundary === null) {
      // One event-loop turn between steps, so nothing else in the worker starves.
      await nextTurn();
      // A release must reach the stepper before the next step builds its
      // feeds, or the row runs one step more than it should. Messages are
      // delivered only in the event loop's poll phase, and one that lands
      // after that phase (or during a GC pause between two steps) would wait
      // a whole step; taking the queued messages synchronously here closes
      // that window.
      drainMessages();
      if (!stepper.hasWork || boundary !== null) break;
      const id = ++stepId;
      try {
        const result = await stepper.step(id);
        post(result, [result.rowIds, result.tokens, result.released, result.releaseMs, result.releaseSteps].map((a) => a.buffer as ArrayBuffer));
      } catch (error) {
        stepper.dropAll();
        post({ type: "stepError", stepId: id, message: (error as Error).message });
      }
    }
    looping = false;
    atBoundary();
  };

  const onMessage = (message: ToWorker): void => {
    switch (message.type) {
      case "encode":
        try {
          const ids = Int32Array.from(encoder.encode(message.prompt));
          post({ type: "encoded", requestId: message.requestId, ids }, [ids.buffer as ArrayBuffer]);
        } catch (error) {
          post({ type: "encodeError", requestId: message.requestId, error: serializeError(error) });
        }
        return;
      case "control":
        if (boundary !== null) return;
        stepper.apply(message.admit, message.release, message.sentAt);
        if (!looping) void runSteps();
        return;
      case "shutdown":
      case "crash":
        boundary = message.type;
        if (!looping) atBoundary();
        return;
    }
  };
  const drainMessages = (): void => {
    for (let queued = receiveMessageOnPort(port!); queued; queued = receiveMessageOnPort(port!)) onMessage(queued.message as ToWorker);
  };
  port!.on("message", onMessage);
  const { io } = runner;
  post({
    type: "ready",
    info: {
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
      chunkedPrefill: chunked,
    },
  });
}

function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

function serializeError(error: unknown): Extract<FromWorker, { type: "encodeError" }>["error"] {
  if (error instanceof ApiError) {
    return { status: error.status, type: error.type, message: error.message, param: error.param, code: error.code };
  }
  return { status: 500, type: "server_error", message: (error as Error)?.message ?? String(error), param: null, code: null };
}

start(workerData as WorkerInit).catch((error: Error) => post({ type: "initError", message: error.message }));
