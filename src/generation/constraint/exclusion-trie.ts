/**
 * Excluded values (object keys already used) as a trie over code points, so
 * the terminal can follow a value being written and tell the moment it
 * differs from every excluded string. It holds decoded code points, so an
 * escape cannot sneak past an exclusion.
 */

/** Exclusion-trie node of a value that already differs from every excluded string. */
export const OUTSIDE_EXCLUSIONS = -1;

export class ExclusionTrie {
  readonly children: Map<number, number>[] = [new Map()];
  readonly sortedChildren: number[][] = [];
  readonly ends: boolean[] = [false];

  constructor(values: readonly string[]) {
    for (const value of values) {
      let node = 0;
      for (const ch of value) {
        const cp = ch.codePointAt(0) as number;
        let child = this.children[node].get(cp);
        if (child === undefined) {
          child = this.children.length;
          this.children.push(new Map());
          this.ends.push(false);
          this.children[node].set(cp, child);
        }
        node = child;
      }
      this.ends[node] = true;
    }
    for (const map of this.children) this.sortedChildren.push([...map.keys()].sort((a, b) => a - b));
  }

  /** The node after `cp`, or OUTSIDE_EXCLUSIONS once the value differs from every excluded string. */
  next(node: number, cp: number): number {
    if (node === OUTSIDE_EXCLUSIONS) return OUTSIDE_EXCLUSIONS;
    return this.children[node].get(cp) ?? OUTSIDE_EXCLUSIONS;
  }

  hasChildIn(node: number, lo: number, hi: number): boolean {
    if (node === OUTSIDE_EXCLUSIONS) return false;
    for (const cp of this.sortedChildren[node]) if (cp >= lo && cp <= hi) return true;
    return false;
  }
}
