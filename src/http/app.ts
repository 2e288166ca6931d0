/**
 * The Fastify app factory. It never listens (src/main.ts does), so tests
 * drive it with app.inject or on port 0 against a fake engine.
 */
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from "fastify";
import { singleReplica, type CancelRelay } from "../cluster/cancel-relay.ts";
import type { ServerConfig } from "../config.ts";
import type { Engine } from "../engine/engine.ts";
import { createLogger } from "../logger.ts";
import { scrapeRegistry } from "../metrics/registry.ts";
import { RequestMetrics } from "../metrics/request-metrics.ts";
import { createApiKeyCheck } from "./auth.ts";
import { clientErrorHandler } from "./client-error.ts";
import { registerCors } from "./cors.ts";
import { registerDrain } from "./drain.ts";
import { errorHandler, frameworkErrorHandler, notFoundHandler } from "./error-mapper.ts";
import { logRequestId, MAX_CLIENT_REQUEST_ID_LENGTH } from "./request-id.ts";
import { registerRequestTracking } from "./request-tracking.ts";
import { registerGenerationRoutes } from "./routes/generation-routes.ts";
import { registerHealthRoutes } from "./routes/health-routes.ts";
import { registerMetricsRoutes } from "./routes/metrics-routes.ts";
import { registerModelRoutes } from "./routes/model-routes.ts";
import { registerPlaygroundRoutes } from "./routes/playground-routes.ts";

declare module "fastify" {
  interface FastifyRequest {
    /** Fingerprint of the API key that authenticated this request; undefined when auth is off. */
    apiKeyOwner: string | undefined;
  }
}

export interface BuildAppOptions {
  /** Defaults to a pino logger at config.logLevel. */
  logger?: FastifyBaseLogger;
  /** The other replicas (--redis-url); by default there are none. */
  relay?: CancelRelay;
}

/** Fastify's own settings: body limit, timeouts, ids, and the envelope for errors before any route. */
function createFastify(config: ServerConfig, logger: FastifyBaseLogger): FastifyInstance {
  return Fastify({
    loggerInstance: logger,
    bodyLimit: config.maxBodyBytes,
    onProtoPoisoning: "error",
    onConstructorPoisoning: "error",
    // Fastify's own closing 503 is not the OpenAI envelope; drain.ts answers instead.
    return503OnClosing: false,
    // Parser errors and header/request timeouts happen before any route: answer them in the OpenAI envelope too.
    clientErrorHandler,
    requestIdHeader: false,
    genReqId: logRequestId,
    // Client X-Request-Ids (up to 256 characters, counted decoded) must fit the cancel route's :id.
    routerOptions: { maxParamLength: MAX_CLIENT_REQUEST_ID_LENGTH },
    // Longer ids and undecodable URLs: the OpenAI envelope too.
    frameworkErrors: frameworkErrorHandler,
    keepAliveTimeout: config.keepAliveTimeoutMs,
    requestTimeout: config.requestTimeoutMs,
    http: {
      headersTimeout: config.headersTimeoutMs,
      requestTimeout: config.requestTimeoutMs,
      // Node checks the two timeouts above on this interval (default 30 s, too coarse for them).
      connectionsCheckingInterval: 1000,
    },
  }) as unknown as FastifyInstance;
}

export function buildApp(config: ServerConfig, engine: Engine, options: BuildAppOptions = {}): FastifyInstance {
  const app = createFastify(config, options.logger ?? createLogger(config.logLevel));

  // Only JSON bodies: text/plain (Fastify's other default) gets the 415 it deserves.
  app.removeContentTypeParser("text/plain");
  app.setErrorHandler(errorHandler);
  app.setNotFoundHandler(notFoundHandler);
  app.decorateRequest("apiKeyOwner", undefined);
  // First of the onRequest hooks: requests that the later ones refuse (shutting down, no API key) are counted too.
  const requestMetrics = new RequestMetrics(engine.model.contextLength);
  registerRequestTracking(app, requestMetrics, config.logPrompts);
  app.addHook("onRequest", async (request, reply) => {
    reply.header("x-request-id", request.id);
  });
  registerDrain(app);
  registerCors(app, config.corsOrigins);
  const relay = options.relay ?? singleReplica;
  registerHealthRoutes(app, engine, relay);
  if (config.playground) registerPlaygroundRoutes(app);

  const auth = createApiKeyCheck(config.apiKeys);
  registerMetricsRoutes(app, scrapeRegistry([requestMetrics.registry, engine.metricsRegistry]), auth);
  app.register(async (v1) => {
    // onRequest runs before the body is read: strangers cannot make us parse 16 MiB.
    v1.addHook("onRequest", async (request) => {
      request.apiKeyOwner = auth.authenticate(request.headers.authorization);
    });
    const limits = {
      maxN: config.maxN,
      maxStop: config.maxStop,
      maxTokensCap: config.maxTokensCap,
      contextLength: engine.model.contextLength,
      maxPromptTokens: config.maxPromptTokens,
      maxSchemaBytes: config.maxSchemaBytes,
    };
    registerGenerationRoutes(v1, { engine, relay, limits, sseHeartbeatMs: config.sseHeartbeatMs });
    registerModelRoutes(v1, engine);
  });
  return app;
}
