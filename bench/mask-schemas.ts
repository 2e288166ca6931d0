/**
 * The four schemas of the mask-cost bench, one per shape that stresses the
 * mask differently: a flat object (string lengths put a count in the state,
 * so masks repeat only across sequences), objects in arrays in objects
 * (deeper stacks), many enums with many values (long literal alternatives,
 * several stacks alive while a prefix is shared), and a recursive $ref tree
 * (continuations that nest as deep as the value does). All are in the
 * subset the compiler guarantees, with additionalProperties false as
 * OpenAI's strict mode asks.
 */

export interface BenchSchema {
  name: string;
  schema: Record<string, unknown>;
}

const text = (maxLength: number): Record<string, unknown> => ({ type: "string", maxLength });

const flat: Record<string, unknown> = {
  type: "object",
  properties: {
    name: text(24),
    age: { type: "integer", minimum: 0, maximum: 150 },
    active: { type: "boolean" },
    city: text(16),
    score: { type: "number" },
    nickname: { type: "string", minLength: 2, maxLength: 12 },
  },
  required: ["name", "age", "active", "city"],
  additionalProperties: false,
};

const nested: Record<string, unknown> = {
  type: "object",
  properties: {
    order: text(12),
    customer: {
      type: "object",
      properties: { name: text(20), tags: { type: "array", items: text(8), maxItems: 4 } },
      required: ["name"],
      additionalProperties: false,
    },
    lines: {
      type: "array",
      minItems: 1,
      maxItems: 5,
      items: {
        type: "object",
        properties: {
          sku: text(10),
          qty: { type: "integer", minimum: 1, maximum: 99 },
          options: {
            type: "array",
            maxItems: 3,
            items: {
              type: "object",
              properties: { key: text(8), value: text(8) },
              required: ["key", "value"],
              additionalProperties: false,
            },
          },
        },
        required: ["sku", "qty"],
        additionalProperties: false,
      },
    },
  },
  required: ["order", "customer", "lines"],
  additionalProperties: false,
};

const COLORS = ["red", "green", "blue", "yellow", "orange", "purple", "pink", "brown", "black", "white", "gray", "grey", "cyan", "magenta", "teal", "navy", "maroon", "olive", "lime", "indigo", "violet", "gold", "silver", "beige"];
const COUNTRIES = [
  "Argentina", "Australia", "Austria", "Belgium", "Brazil", "Bulgaria", "Canada", "Chile", "China", "Colombia", "Croatia", "Czechia",
  "Denmark", "Egypt", "Estonia", "Finland", "France", "Germany", "Greece", "Hungary", "Iceland", "India", "Indonesia", "Ireland",
  "Israel", "Italy", "Japan", "Kenya", "Latvia", "Lithuania", "Malaysia", "Mexico", "Morocco", "Netherlands", "New Zealand", "Nigeria",
  "Norway", "Peru", "Philippines", "Poland", "Portugal", "Romania", "Serbia", "Singapore", "Slovakia", "Slovenia", "South Africa",
  "South Korea", "Spain", "Sweden", "Switzerland", "Thailand", "Turkey", "Ukraine", "United Kingdom", "United States", "Uruguay", "Vietnam",
];
const UNITS = ["mm", "cm", "m", "km", "in", "ft", "yd", "mi", "mg", "g", "kg", "t", "oz", "lb", "ml", "l", "gal", "s", "min", "h", "day", "week"];
const STATUSES = ["draft", "pending", "pending_review", "in_review", "approved", "approved_with_changes", "rejected", "archived", "deleted", "scheduled", "published", "unpublished"];
const CATEGORIES = Array.from({ length: 40 }, (_, i) => `category_${String(i).padStart(2, "0")}`);
const HTTP = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "CONNECT"];

const enumHeavy: Record<string, unknown> = {
  type: "object",
  properties: {
    color: { enum: COLORS },
    country: { enum: COUNTRIES },
    unit: { enum: UNITS },
    status: { enum: STATUSES },
    category: { enum: CATEGORIES },
    method: { enum: HTTP },
    priority: { enum: [1, 2, 3, 5, 8, 13, 21, null] },
    palette: { type: "array", items: { enum: COLORS }, minItems: 1, maxItems: 4 },
  },
  required: ["color", "country", "unit", "status", "category", "method", "priority", "palette"],
  additionalProperties: false,
};

const recursive: Record<string, unknown> = {
  $defs: {
    node: {
      type: "object",
      properties: {
        name: text(12),
        value: { type: "integer", minimum: -1000, maximum: 1000 },
        children: { type: "array", items: { $ref: "#/$defs/node" }, maxItems: 3 },
      },
      required: ["name", "children"],
      additionalProperties: false,
    },
  },
  $ref: "#/$defs/node",
};

export const BENCH_SCHEMAS: readonly BenchSchema[] = [
  { name: "flat object", schema: flat },
  { name: "nested arrays", schema: nested },
  { name: "enum-heavy", schema: enumHeavy },
  { name: "recursive $ref", schema: recursive },
];
