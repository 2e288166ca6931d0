/**
 * Why a JSON Schema cannot be compiled into a guarantee, and where: `path`
 * leads from the schema's root to the offending keyword, so the client is
 * told `response_format.json_schema.schema.properties.age.multipleOf`.
 */
export type SchemaPath = ReadonlyArray<string | number>;

export class SchemaError extends Error {
  constructor(
    readonly path: SchemaPath,
    message: string,
  ) {
    super(message);
    this.name = "SchemaError";
  }
}

export const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);
