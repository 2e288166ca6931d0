/**
 * Entry point of a model worker thread: boots (worker/boot.ts), then serves
 * the engine's messages: prompts to encode at once, control messages to the
 * step loop, shutdown and crash at the next step boundary.
 */
import { parentPort, receiveMessageOnPort, workerData } from "node:worker_threads";
import { serializeError } from "../errors.ts";
import { bootWorker } from "./boot.ts";
import type { FromWorker, ToWorker, WorkerInit } from "./messages.ts";
import { StepLoop } from "./step-loop.ts";

if (!parentPort) throw new Error("worker-main must run in a worker thread");
const port = parentPort;
const post = (message: FromWorker, transfer: ArrayBuffer[] = []): void => port.postMessage(message, transfer);

async function serve(init: WorkerInit): Promise<void> {
  const { runner, encoder, stepper, info, opensReasoning } = await bootWorker(init);
  const loop = new StepLoop(stepper, {
    post,
    drainMessages: () => {
      for (let queued = receiveMessageOnPort(port); queued; queued = receiveMessageOnPort(port)) dispatch(queued.message as ToWorker);
    },
    shutdown: () => void runner.release().finally(() => port.close()),
  });
  const dispatch = (message: ToWorker): void => {
    switch (message.type) {
      case "encode":
        try {
          const ids = Int32Array.from(encoder.encode(message.prompt));
          const inside = message.prompt.kind === "chat" && opensReasoning(ids);
          post({ type: "encoded", requestId: message.requestId, ids, opensReasoning: inside }, [ids.buffer as ArrayBuffer]);
        } catch (error) {
          post({ type: "encodeError", requestId: message.requestId, error: serializeError(error) });
        }
        return;
      case "control":
        return loop.control(message);
      case "shutdown":
      case "crash":
        return loop.stop(message.type);
    }
  };
  port.on("message", dispatch);
  post({ type: "ready", info });
}

serve(workerData as WorkerInit).catch((error: Error) => post({ type: "initError", message: error.message }));
