/**
 * The only place that listens: parses configuration, reads the model
 * folder, listens (so /health and /ready answer while the model loads),
 * loads the model into the worker pool, and shuts down gracefully on
 * SIGTERM/SIGINT (stop admitting, let in-flight work finish within the
 * grace period, cancel the rest, stop every worker thread).
 */
import type { Logger } from "pino";
import { singleReplica, type CancelRelay } from "./cluster/cancel-relay.ts";
import { RedisCancelRelay } from "./cluster/redis-cancel-relay.ts";
import { newReplicaId } from "./cluster/replica-id.ts";
import { ConfigError, parseConfig, type ServerConfig } from "./config.ts";
import { OnnxEngine } from "./engine/onnx-engine.ts";
import { buildApp } from "./http/app.ts";
import { FINAL_WRITES_MS } from "./http/drain.ts";
import { createLogger } from "./logger.ts";
import { ModelLoadError } from "./model/model-load-error.ts";
import { modelSource } from "./model/model-source.ts";

async function main(): Promise<void> {
  if (process.argv[2] === "optimize") {
    // A one-off model tool, not the server: loaded only when asked for.
    const { runOptimizeCli } = await import("./optimize/optimize-cli.ts");
    process.exitCode = runOptimizeCli(process.argv.slice(3));
    return;
  }
  if (process.argv[2] === "pull") {
    // Fetches a Hub model into --models-dir and exits; the server is not started.
    const { runPullCli } = await import("./hub/pull-cli.ts");
    process.exitCode = await runPullCli(process.argv.slice(3));
    return;
  }
  let config: ServerConfig;
  try {
    const parsed = parseConfig(process.argv.slice(2), process.env);
    if (parsed.kind === "help") {
      process.stdout.write(`${parsed.text}\n`);
      return;
    }
    config = parsed.config;
  } catch (error) {
    if (error instanceof ConfigError) return fail(error.message, 2);
    throw error;
  }

  const logger = createLogger(config.logLevel);
  let engine: OnnxEngine;
  try {
    const source = modelSource(config.modelPath, config.modelsDir, config.revision);
    if (source.kind === "hub") {
      // Loaded only for Hub ids: a plain folder never touches the network code.
      const { ensureHubModel } = await import("./hub/hub-model.ts");
      const dir = await ensureHubModel(source, config, process.stderr);
      logger.info({ repo: source.repo, revision: source.revision, dir }, "serving a Hub model from --models-dir");
      config = { ...config, modelPath: dir, modelName: config.modelName ?? source.repo };
    }
    engine = OnnxEngine.open({ ...config, logger });
  } catch (error) {
    return fail(loadFailure(error), 1);
  }

  const relay = startCancelRelay(config, engine, logger);
  const app = buildApp(config, engine, { logger, relay });
  // Before the workers load the model: until then /ready answers 503 "loading" and generation 503.
  await app.listen({ host: config.host, port: config.port });

  let stopping = false;
  const shutdown = async (signal: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal, graceMs: config.shutdownGraceMs }, "shutting down");
    // At once: the listener closes, idle keep-alive connections close, late requests get 503 (http/drain.ts).
    const appClosed = app.close();
    await engine.close(config.shutdownGraceMs);
    // Every request has ended; their last bytes get a moment to go out, then a client that does not read is cut off.
    await Promise.race([appClosed, new Promise((resolve) => setTimeout(resolve, FINAL_WRITES_MS).unref())]);
    app.server.closeAllConnections();
    await appClosed;
    // Last: until every request had ended, this replica still answered cancels relayed from the others.
    await relay.close();
    logger.info("stopped");
    process.exit(0);
  };
  process.once("SIGTERM", (s) => void shutdown(s));
  process.once("SIGINT", (s) => void shutdown(s));

  try {
    await engine.load();
  } catch (error) {
    // A shutdown during the load stops the workers on purpose; it exits by itself.
    if (stopping) return;
    await app.close();
    await relay.close();
    return fail(loadFailure(error), 1);
  }
}

/** Without --redis-url, one replica: nothing is shared. With it, Redis is connected in the background. */
function startCancelRelay(config: ServerConfig, engine: OnnxEngine, logger: Logger): CancelRelay {
  if (config.redisUrl === null) return singleReplica;
  const relay = new RedisCancelRelay({
    url: config.redisUrl,
    replica: newReplicaId(),
    cancelLocally: (handle, owner) => engine.cancel(handle, owner),
    logger,
  });
  relay.start();
  return relay;
}

const loadFailure = (error: unknown): string =>
  error instanceof ModelLoadError ? `cannot serve model: ${error.message}` : (error as Error).message;

function fail(message: string, code: number): void {
  process.stderr.write(`error: ${message}\n`);
  process.exitCode = code;
}

main().catch((error: Error) => {
  process.stderr.write(`error: ${error.stack ?? error.message}\n`);
  process.exit(1);
});
