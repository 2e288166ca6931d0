/** Model list/object and cancellation response shapes. */
import type { CancelResult, ModelCard } from "../engine/engine.ts";
import { toWireUsage, type WireUsage } from "./wire-values.ts";

export interface ModelObject {
  id: string;
  object: "model";
  created: number;
  owned_by: string;
  /** Beyond OpenAI's fields, as vLLM and llama-server add them: what a client needs to size its prompts, and which file is served. */
  context_length: number;
  dtype: string;
  file: string;
  layout: "optimum" | "genai";
  /** response_format json_object / json_schema are available for this model. */
  structured_output: boolean;
}

export const toModelObject = (card: ModelCard): ModelObject => ({
  id: card.id,
  object: "model",
  created: card.created,
  owned_by: card.ownedBy,
  context_length: card.contextLength,
  dtype: card.dtype,
  file: card.file,
  layout: card.layout,
  structured_output: card.structuredOutput,
});

export const toModelList = (cards: ModelCard[]): { object: "list"; data: ModelObject[] } => ({
  object: "list",
  data: cards.map(toModelObject),
});

export type CancellationObject = "chat.completion.cancellation" | "text_completion.cancellation";

export interface Cancellation {
  id: string;
  object: CancellationObject;
  status: CancelResult["status"];
  usage: WireUsage;
}

export const toCancellation = (result: CancelResult, object: CancellationObject): Cancellation => ({
  id: result.id,
  object,
  status: result.status,
  usage: toWireUsage(result.usage),
});
