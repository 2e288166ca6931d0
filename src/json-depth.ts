/**
 * How deep a JSON value nests, asked without walking deeper than the
 * question: request bodies can nest thousands of levels, and the code that
 * renders or compiles them recurses, so depth is bounded before they do.
 */

/** Whether a value nests more than `levels` arrays/objects deep. */
export function nestsDeeperThan(value: unknown, levels: number): boolean {
  if (typeof value !== "object" || value === null) return false;
  if (levels === 0) return true;
  for (const child of Array.isArray(value) ? value : Object.values(value)) {
    if (nestsDeeperThan(child, levels - 1)) return true;
  }
  return false;
}
