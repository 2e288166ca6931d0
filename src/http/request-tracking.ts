/**
 * Follows every generation request (POST /v1/chat/completions and
 * /v1/completions) from its arrival to the end of its response, whatever
 * ends it: a 401 before the body is read, a 400 from validation, a 429
 * from the engine, a finished or cancelled generation, a client that went
 * away. Each one is counted in the request metrics and gets its log line
 * exactly once (request-outcome.ts decides when).
 */
import type { FastifyInstance } from "fastify";
import type { RequestMetrics } from "../metrics/request-metrics.ts";
import { wellFormedClientRequestId } from "./request-id.ts";
import { REQUEST_LOG_MESSAGE, requestLogLine } from "./request-log.ts";
import { RequestOutcome, type GenerationEndpoint } from "./request-outcome.ts";

declare module "fastify" {
  interface FastifyRequest {
    /** Set on arrival on the generation routes; null on every other route. */
    generationOutcome: RequestOutcome | null;
  }
}

/** nginx's status for a client that closed its connection before any response: counted and logged, never sent. */
export const CLIENT_CLOSED_REQUEST = 499;

const GENERATION_ENDPOINTS: ReadonlySet<string> = new Set<GenerationEndpoint>(["/v1/chat/completions", "/v1/completions"]);

const isGenerationEndpoint = (url: string | undefined): url is GenerationEndpoint => url !== undefined && GENERATION_ENDPOINTS.has(url);

/** Register before any other onRequest hook, so that requests those hooks refuse are followed too. */
export function registerRequestTracking(app: FastifyInstance, metrics: RequestMetrics, logPrompts: boolean): void {
  app.decorateRequest("generationOutcome", null);
  app.addHook("onRequest", async (request, reply) => {
    const url = request.routeOptions.url;
    if (request.method !== "POST" || !isGenerationEndpoint(url)) return;
    const clientId = wellFormedClientRequestId(request.headers["x-request-id"]) ?? null;
    const outcome = new RequestOutcome(url, performance.now(), clientId, {
      firstToken: (seconds) => metrics.firstToken(seconds),
      finished: (finished) => {
        metrics.finished({
          endpoint: finished.endpoint,
          status: finished.status,
          finishReason: finished.finishReason,
          generation:
            finished.usage === null
              ? null
              : { seconds: finished.durationMs / 1000, promptTokens: finished.usage.promptTokens, generationTokens: finished.usage.completionTokens },
        });
        request.log.info(requestLogLine(finished, logPrompts), REQUEST_LOG_MESSAGE);
      },
    });
    request.generationOutcome = outcome;
    const res = reply.raw;
    // 'close' comes once per response: after its last byte, or when the connection is gone.
    res.once("close", () => outcome.responseClosed(res.headersSent ? res.statusCode : CLIENT_CLOSED_REQUEST));
  });
}
