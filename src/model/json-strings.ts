/**
 * Walks the strings of JSON-like data (object keys included): the prompt
 * encoder finds and fences text a client wrote that looks like a special
 * token, wherever the request put it (content, names, tool schemas, call
 * arguments, template variables).
 */

export function someString(value: unknown, test: (s: string) => boolean): boolean {
  if (typeof value === "string") return test(value);
  if (Array.isArray(value)) return value.some((v) => someString(v, test));
  if (typeof value === "object" && value !== null) return Object.entries(value).some(([k, v]) => test(k) || someString(v, test));
  return false;
}

/** A copy with every string, keys included, mapped; other values are kept. */
export function mapStrings<T>(value: T, map: (s: string) => string): T {
  return mapAny(value, map) as T;
}

function mapAny(value: unknown, map: (s: string) => string): unknown {
  if (typeof value === "string") return map(value);
  if (Array.isArray(value)) return value.map((v) => mapAny(v, map));
  if (typeof value === "object" && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [map(k), mapAny(v, map)]));
  }
  return value;
}
