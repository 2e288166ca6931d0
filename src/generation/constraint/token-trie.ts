/**
 * The vocabulary as a byte trie laid out in preorder arrays. A mask is
 * computed by walking the trie depth first with the matcher's state: when a
 * byte is rejected at node i, no token below i can be allowed, and the walk
 * jumps straight to subtreeEnd[i]. Preorder with children in increasing
 * byte order is exactly the order of the tokens' byte strings sorted
 * lexicographically (a prefix sorts before its extensions), which is how the
 * trie is built: sort, then emit the nodes each string adds past the common
 * prefix with the previous one.
 *
 * Several ids may share one byte string (a SentencePiece "▁" and its byte
 * token <0x20> are both a space): they sit at the same node.
 */
import type { TokenBytes } from "./token-bytes.ts";

export class TokenTrie {
  /** Nodes including the root (node 0). */
  readonly nodeCount: number;
  /** Node i's byte (i >= 1; node 0 is the root, with no byte). */
  readonly byte: Uint8Array;
  /** Node i's distance from the root: the length of the byte string it spells. */
  readonly depth: Uint16Array;
  /** Index one past the last node of i's subtree: a walk that prunes i continues at subtreeEnd[i]. */
  readonly subtreeEnd: Int32Array;
  /** Tokens whose bytes end exactly at node i: tokenIds[tokenStart[i] .. tokenStart[i + 1]); nodeCount + 1 entries. */
  readonly tokenStart: Int32Array;
  readonly tokenIds: Int32Array;
  /** The longest token, in bytes (the deepest node). */
  readonly maxDepth: number;

  private constructor(nodeCount: number, byte: Uint8Array, depth: Uint16Array, subtreeEnd: Int32Array, tokenStart: Int32Array, tokenIds: Int32Array, maxDepth: number) {
    this.nodeCount = nodeCount;
    this.byte = byte;
    this.depth = depth;
    this.subtreeEnd = subtreeEnd;
    this.tokenStart = tokenStart;
    this.tokenIds = tokenIds;
    this.maxDepth = maxDepth;
  }

  static build(table: TokenBytes): TokenTrie {
    const { keys, idsByKey, tokenCount, totalBytes } = groupByBytes(table);
    // Default string sort compares UTF-16 units; keys hold one unit per byte, so this is byte-lexicographic order.
    keys.sort();

    const capacity = totalBytes + 1;
    const byte = new Uint8Array(capacity);
    const depth = new Uint16Array(capacity);
    const subtreeEnd = new Int32Array(capacity);
    const tokenStart = new Int32Array(capacity + 1);
    const tokenIds = new Int32Array(tokenCount);
    let nodeCount = 1;
    let tokensPlaced = 0;
    let maxDepth = 0;
    // path[d] is the node at depth d on the path of the previous key; path[0] is the root.
    const path: number[] = [0];
    let previous = "";

    for (const key of keys) {
      let common = 0;
      const limit = Math.min(previous.length, key.length);
      while (common < limit && previous.charCodeAt(common) === key.charCodeAt(common)) common++;
      // The previous key's nodes deeper than the common prefix are complete: every later node sorts after them.
      for (let d = path.length - 1; d > common; d--) subtreeEnd[path[d]] = nodeCount;
      path.length = common + 1;
      for (let d = common; d < key.length; d++) {
        const node = nodeCount++;
        byte[node] = key.charCodeAt(d);
        depth[node] = d + 1;
        tokenStart[node] = tokensPlaced;
        path.push(node);
      }
      // Keys are distinct and sorted, so a key is never a prefix of an earlier one: its last node was created just now.
      for (const id of idsByKey.get(key) as number[]) tokenIds[tokensPlaced++] = id;
      maxDepth = Math.max(maxDepth, key.length);
      previous = key;
    }
    for (let d = path.length - 1; d >= 0; d--) subtreeEnd[path[d]] = nodeCount;
    tokenStart[nodeCount] = tokensPlaced;

    return new TokenTrie(
      nodeCount,
      byte.slice(0, nodeCount),
      depth.slice(0, nodeCount),
      subtreeEnd.slice(0, nodeCount),
      tokenStart.slice(0, nodeCount + 1),
      tokenIds,
      maxDepth,
    );
  }

  /** Bytes held by the arrays (for logs and benches). */
  get byteLength(): number {
    return this.byte.byteLength + this.depth.byteLength + this.subtreeEnd.byteLength + this.tokenStart.byteLength + this.tokenIds.byteLength;
  }
}

/** Depth is a Uint16Array: a longer token is not a vocabulary entry but a corrupt table. */
const MAX_TOKEN_BYTES = 0xffff;

/**
 * Each distinct byte string as a key with one UTF-16 unit per byte, and the
 * ids that spell it in increasing order.
 */
function groupByBytes(table: TokenBytes): { keys: string[]; idsByKey: Map<string, number[]>; tokenCount: number; totalBytes: number } {
  const idsByKey = new Map<string, number[]>();
  const keys: string[] = [];
  let tokenCount = 0;
  let totalBytes = 0;
  for (let id = 0; id < table.bytes.length; id++) {
    const bytes = table.bytes[id];
    if (!bytes || bytes.length === 0) continue;
    if (bytes.length > MAX_TOKEN_BYTES) throw new RangeError(`token ${id} has ${bytes.length} bytes; the trie holds at most ${MAX_TOKEN_BYTES}`);
    const key = bytesKey(bytes);
    const ids = idsByKey.get(key);
    if (ids) ids.push(id);
    else {
      idsByKey.set(key, [id]);
      keys.push(key);
      totalBytes += bytes.length;
    }
    tokenCount++;
  }
  return { keys, idsByKey, tokenCount, totalBytes };
}

/** Chunked so that String.fromCharCode never gets more arguments than the engine allows. */
function bytesKey(bytes: Uint8Array): string {
  const CHUNK = 4096;
  if (bytes.length <= CHUNK) return String.fromCharCode.apply(null, bytes as unknown as number[]);
  let key = "";
  for (let i = 0; i < bytes.length; i += CHUNK) key += String.fromCharCode.apply(null, bytes.subarray(i, i + CHUNK) as unknown as number[]);
  return key;
}
