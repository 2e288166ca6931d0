/**
 * Local `$ref`s: "#" and JSON Pointers into the same schema ("#/$defs/node",
 * "#/definitions/node", "#/properties/a/items"). Remote and `$id`-based
 * references would need fetching or an id index; they are refused.
 */
import { SchemaError, isObject, type SchemaPath } from "./schema-error.ts";

export function resolvePointer(root: unknown, pointer: string, refPath: SchemaPath): { target: unknown; targetPath: SchemaPath } {
  if (!pointer.startsWith("#")) {
    throw new SchemaError(refPath, `'${pointer}': only references within the schema ('#/...') are supported`);
  }
  const fragment = safeDecode(pointer.slice(1), refPath, pointer);
  if (fragment !== "" && !fragment.startsWith("/")) {
    throw new SchemaError(refPath, `'${pointer}': only JSON Pointer references ('#/$defs/name') are supported`);
  }
  const segments = fragment === "" ? [] : fragment.slice(1).split("/").map((s) => s.replace(/~1/g, "/").replace(/~0/g, "~"));
  let current: unknown = root;
  const targetPath: Array<string | number> = [];
  for (const segment of segments) {
    if (Array.isArray(current) && /^(0|[1-9][0-9]*)$/.test(segment) && Number(segment) < current.length) {
      current = current[Number(segment)];
      targetPath.push(Number(segment));
    } else if (isObject(current) && Object.hasOwn(current, segment)) {
      current = current[segment];
      targetPath.push(segment);
    } else {
      throw new SchemaError(refPath, `'${pointer}' does not point to a schema in this document`);
    }
  }
  return { target: current, targetPath };
}

function safeDecode(text: string, path: SchemaPath, pointer: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    throw new SchemaError(path, `'${pointer}' is not a valid URI fragment`);
  }
}
