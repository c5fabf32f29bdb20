interface TrieNode<T> {
  value: T | undefined;
  readonly children: Map<string, TrieNode<T>>;
}

export interface TrieMatch<T> {
  readonly value: T;
  /** How many segments of the looked-up path the matching prefix spans. */
  readonly depth: number;
}

function newNode<T>(): TrieNode<T> {
  return { value: undefined, children: new Map() };
}

/**
 * A longest-prefix map over path segments, after configurable-http-proxy's `lib/trie.js`.
 * Segments are compared as exact strings: callers hand in canonical segments, so no decoding
 * or case folding happens here and a prefix can never match a differently spelled path.
 */
export class RouteTrie<T> {
  private readonly root: TrieNode<T> = newNode();
  private count = 0;

  get size(): number {
    return this.count;
  }

  set(segments: readonly string[], value: T): void {
    let node = this.root;
    for (const segment of segments) {
      let child = node.children.get(segment);
      if (child === undefined) {
        child = newNode();
        node.children.set(segment, child);
      }
      node = child;
    }
    if (node.value === undefined) this.count += 1;
    node.value = value;
  }

  /** The value stored at exactly this path. */
  get(segments: readonly string[]): T | undefined {
    let node: TrieNode<T> | undefined = this.root;
    for (const segment of segments) {
      node = node.children.get(segment);
      if (node === undefined) return undefined;
    }
    return node.value;
  }

  /** The value of the longest stored prefix of `segments`. */
  match(segments: readonly string[]): TrieMatch<T> | undefined {
    let node: TrieNode<T> = this.root;
    let best = node.value;
    let bestDepth = 0;
    for (let depth = 0; depth < segments.length; depth += 1) {
      const segment = segments[depth];
      if (segment === undefined) break;
      const child = node.children.get(segment);
      if (child === undefined) break;
      node = child;
      if (node.value !== undefined) {
        best = node.value;
        bestDepth = depth + 1;
      }
    }
    return best === undefined ? undefined : { value: best, depth: bestDepth };
  }

  /** Removes the value at exactly this path and prunes branches left empty. Returns it. */
  delete(segments: readonly string[]): T | undefined {
    const path: TrieNode<T>[] = [this.root];
    let node = this.root;
    for (const segment of segments) {
      const child = node.children.get(segment);
      if (child === undefined) return undefined;
      path.push(child);
      node = child;
    }
    const removed = node.value;
    if (removed === undefined) return undefined;
    node.value = undefined;
    this.count -= 1;
    for (let i = segments.length; i > 0; i -= 1) {
      const current = path[i];
      const parent = path[i - 1];
      const segment = segments[i - 1];
      if (current === undefined || parent === undefined || segment === undefined) break;
      if (current.value !== undefined || current.children.size > 0) break;
      parent.children.delete(segment);
    }
    return removed;
  }

  *values(): IterableIterator<T> {
    const stack: TrieNode<T>[] = [this.root];
    for (let node = stack.pop(); node !== undefined; node = stack.pop()) {
      if (node.value !== undefined) yield node.value;
      for (const child of node.children.values()) stack.push(child);
    }
  }
}
