/**
 * Random JSON Schemas over the supported subset, for property tests. Every
 * string has a maxLength (or a bounded format) and every array a maxItems,
 * so a value can always be finished within a few hundred tokens; objects may
 * still allow additional properties, which a walk can extend at will.
 */
import fc from "fast-check";

const NAMES = ["a", "b", "name", "nm", "x y", "é", "id", "q\"t"];

const stringSchema = fc.oneof(
  fc
    .record({ maxLength: fc.integer({ min: 0, max: 6 }), minLength: fc.integer({ min: 0, max: 3 }) })
    .map(({ maxLength, minLength }) => ({ type: "string", maxLength, minLength: Math.min(minLength, maxLength) })),
  fc.constantFrom(
    { type: "string", pattern: "^[a-z]{1,4}$" },
    { type: "string", pattern: "^[0-9]{2,3}-x$" },
    { type: "string", pattern: "ab", maxLength: 5 },
    { type: "string", format: "date" },
    { type: "string", format: "uuid" },
    { type: "string", format: "time" },
    { type: "string", format: "email", maxLength: 12 },
    { type: "string", format: "date-time" },
  ),
);

const integerSchema = fc
  .record({ min: fc.option(fc.integer({ min: -50, max: 50 }), { nil: undefined }), span: fc.integer({ min: 0, max: 200 }), bounded: fc.boolean() })
  .map(({ min, span, bounded }) => ({ type: "integer", ...(min !== undefined ? { minimum: min } : {}), ...(bounded && min !== undefined ? { maximum: min + span } : {}) }));

const numberSchema = fc
  .record({ low: fc.double({ min: -100, max: 100, noNaN: true }), width: fc.double({ min: 0.01, max: 50, noNaN: true }), exclusive: fc.boolean() })
  .map(({ low, width, exclusive }) => (exclusive ? { type: "number", exclusiveMinimum: low, maximum: low + width } : { type: "number", minimum: low, exclusiveMaximum: low + width }));

const literalValue = fc.oneof(fc.string({ maxLength: 4 }), fc.integer({ min: -5, max: 99 }), fc.boolean(), fc.constant(null));

const leaf = fc.oneof(
  stringSchema,
  integerSchema,
  numberSchema,
  fc.constant({ type: "boolean" }),
  fc.constant({ type: "null" }),
  fc.uniqueArray(literalValue, { minLength: 1, maxLength: 4, selector: (v) => JSON.stringify(v) }).map((values) => ({ enum: values })),
  literalValue.map((value) => ({ const: value })),
  fc.constant({ type: ["string", "null"], maxLength: 3 }),
);

export const schemaArbitrary: fc.Arbitrary<unknown> = fc.letrec<{ schema: unknown; object: unknown; array: unknown }>((tie) => ({
  schema: fc.oneof({ depthSize: "small", withCrossShrink: true }, leaf, tie("object"), tie("array"), fc.array(tie("schema"), { minLength: 2, maxLength: 3 }).map((anyOf) => ({ anyOf }))),
  object: fc
    .record({
      props: fc.uniqueArray(fc.tuple(fc.constantFrom(...NAMES), tie("schema")), { maxLength: 3, selector: ([name]) => name }),
      required: fc.array(fc.boolean(), { minLength: 3, maxLength: 3 }),
      additional: fc.constantFrom<unknown>(false, false, { type: "integer", maximum: 9 }),
    })
    .map(({ props, required, additional }) => ({
      type: "object",
      properties: Object.fromEntries(props),
      required: props.filter((_, i) => required[i]).map(([name]) => name),
      additionalProperties: additional,
    })),
  array: fc
    .record({ items: tie("schema"), prefix: fc.array(tie("schema"), { maxLength: 2 }), min: fc.integer({ min: 0, max: 2 }), extra: fc.integer({ min: 0, max: 2 }) })
    .map(({ items, prefix, min, extra }) => ({ type: "array", ...(prefix.length > 0 ? { prefixItems: prefix } : {}), items, minItems: min, maxItems: min + extra })),
})).schema;

/** A recursive schema (a tree through $defs), kept small by maxItems. */
export const TREE_SCHEMA = {
  $defs: {
    node: {
      type: "object",
      properties: { v: { type: "integer", minimum: 0, maximum: 9 }, kids: { type: "array", items: { $ref: "#/$defs/node" }, maxItems: 2 } },
      required: ["v"],
      additionalProperties: false,
    },
  },
  $ref: "#/$defs/node",
};
