/**
 * `response_format` on chat completions: "text" (free text), "json_object"
 * (any JSON object) or "json_schema" (a value valid against the client's
 * JSON Schema). The schema itself is compiled, and refused with its path,
 * by the engine, which knows what the model's vocabulary can spell.
 */
import { z } from "zod";
import type { OutputConstraint } from "../domain.ts";
import { invalidRequest } from "../errors.ts";

const SCHEMA_NAME = /^[A-Za-z0-9_-]{1,64}$/;

export const responseFormatField = z
  .discriminatedUnion(
    "type",
    [
      z.strictObject({ type: z.literal("text") }),
      z.strictObject({ type: z.literal("json_object") }),
      z.strictObject({
        type: z.literal("json_schema"),
        json_schema: z.strictObject(
          {
            name: z.string({ error: "expected a name" }).regex(SCHEMA_NAME, { error: "expected 1 to 64 letters, digits, underscores or dashes" }),
            description: z.string({ error: "expected a string" }).nullish(),
            schema: z.union([z.record(z.string(), z.unknown()), z.boolean()], { error: "expected a JSON Schema object" }).nullish(),
            strict: z.boolean({ error: "expected a boolean" }).nullish(),
          },
          { error: "expected an object with 'name' and 'schema'" },
        ),
      }),
    ],
    { error: "expected an object whose 'type' is 'text', 'json_object' or 'json_schema'" },
  )
  .nullish();

export type ResponseFormatField = z.output<typeof responseFormatField>;

export function toOutputConstraint(format: ResponseFormatField, maxSchemaBytes: number): OutputConstraint | null {
  if (!format || format.type === "text") return null;
  if (format.type === "json_object") return { kind: "json_object" };
  // OpenAI treats a missing schema as "any JSON value"; so does this server.
  const schema = format.json_schema.schema ?? {};
  const bytes = Buffer.byteLength(JSON.stringify(schema));
  if (bytes > maxSchemaBytes) {
    throw invalidRequest(
      `The schema in 'response_format.json_schema.schema' is ${bytes} bytes; this server accepts schemas up to ${maxSchemaBytes} bytes.`,
      "response_format.json_schema.schema",
      "schema_too_large",
    );
  }
  return { kind: "json_schema", name: format.json_schema.name, schema };
}
