/** GET /v1/models and GET /v1/models/{id} (ids may contain '/', as Hub names do). */
import type { FastifyInstance } from "fastify";
import type { Engine } from "../../engine/engine.ts";
import { toModelList, toModelObject } from "../../protocol/model-response.ts";
import { modelNotFound } from "../../errors.ts";

export function registerModelRoutes(app: FastifyInstance, engine: Engine): void {
  app.get("/v1/models", async () => toModelList([engine.model]));
  app.get<{ Params: { "*": string } }>("/v1/models/*", async (request) => {
    const id = request.params["*"];
    if (id !== engine.model.id) throw modelNotFound(id);
    return toModelObject(engine.model);
  });
}
