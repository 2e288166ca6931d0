/** POST /v1/chat/completions, /v1/completions and their cancel endpoints. */
import type { FastifyInstance } from "fastify";
import { completionNotFound } from "../../errors.ts";
import { toCancellation, type CancellationObject } from "../../protocol/model-response.ts";
import { handleGeneration, type GenerationDeps } from "../generation-handler.ts";

const CANCEL_OBJECT: Record<"chat" | "completion", CancellationObject> = {
  chat: "chat.completion.cancellation",
  completion: "text_completion.cancellation",
};

export function registerGenerationRoutes(app: FastifyInstance, deps: GenerationDeps): void {
  app.post("/v1/chat/completions", (request, reply) => handleGeneration("chat", request, reply, deps, request.apiKeyOwner));
  app.post("/v1/completions", (request, reply) => handleGeneration("completion", request, reply, deps, request.apiKeyOwner));

  // A cancel needs no body, but clients often send `Content-Type: application/json` with none.
  const jsonParser = app.getDefaultJsonParser("error", "error");
  app.register(async (cancelScope) => {
    cancelScope.removeContentTypeParser("application/json");
    cancelScope.addContentTypeParser("application/json", { parseAs: "string" }, (request, body, done) => {
      if (body === "") done(null, undefined);
      else jsonParser(request, body as string, done);
    });
    for (const [endpoint, path] of [
      ["chat", "/v1/chat/completions/:id/cancel"],
      ["completion", "/v1/completions/:id/cancel"],
    ] as const) {
      cancelScope.post<{ Params: { id: string } }>(path, async (request) => {
        const { id } = request.params;
        const owner = request.apiKeyOwner;
        const local = deps.engine.cancel(id, owner);
        // Not running here: it may be running on another replica (a client id reused there, say), which wins over a local finished record.
        const result = local?.status === "cancelled" ? local : await deps.relay.cancel(id, owner, local);
        if (result === null) throw completionNotFound(id);
        request.log.info({ target: id, status: result.status }, "cancel");
        return toCancellation(result, CANCEL_OBJECT[endpoint]);
      });
    }
  });
}
