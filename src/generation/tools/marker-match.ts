/**
 * Finding markers (call and thinking tags) in streamed text, with the hold-back
 * rule of stop strings: of the text that has no complete marker, only the
 * longest suffix that is still the start of a marker is held back.
 */

/** The earliest complete marker in `text` at or after `from`, or null. */
export function findMarker(text: string, markers: readonly string[], from = 0): { at: number; marker: string } | null {
  let best: { at: number; marker: string } | null = null;
  for (const marker of markers) {
    const at = text.indexOf(marker, from);
    if (at !== -1 && (best === null || at < best.at)) best = { at, marker };
  }
  return best;
}

/** Length of the longest suffix of `text` that is a proper prefix of one of `markers`. */
export function partialMarkerLength(text: string, markers: readonly string[]): number {
  let best = 0;
  for (const marker of markers) {
    for (let len = Math.min(marker.length - 1, text.length); len > best; len--) {
      if (text.endsWith(marker.slice(0, len))) {
        best = len;
        break;
      }
    }
  }
  return best;
}

/** True when `text` is a proper prefix of one of `markers` (it may still become one). */
export function isMarkerPrefix(text: string, markers: readonly string[]): boolean {
  return markers.some((marker) => marker.length > text.length && marker.startsWith(text));
}

export function isJsonWhitespace(ch: string): boolean {
  return ch === " " || ch === "\n" || ch === "\r" || ch === "\t";
}
