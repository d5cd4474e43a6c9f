/**
 * A map bounded to `capacity` entries that drops the least recently used one first.
 * Relies on Map keeping insertion order: a use moves the key to the end, so the first
 * key is always the least recently used, and every operation is O(1).
 */
export class LruCache<K, V> {
  private readonly map = new Map<K, V>();

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`capacity must be a positive integer`);
  }

  get size(): number {
    return this.map.size;
  }

  /** The value, marked as just used. */
  get(key: K): V | undefined {
    const value = this.map.get(key);
    if (value !== undefined) {
      this.map.delete(key);
      this.map.set(key, value);
    }
    return value;
  }

  /** Adds or replaces `key` as the most recently used; drops the least recently used past capacity. */
  set(key: K, value: V): void {
    this.map.delete(key);
    this.map.set(key, value);
    if (this.map.size > this.capacity) {
      const oldest = this.map.keys().next();
      if (!oldest.done) this.map.delete(oldest.value);
    }
  }

  /** The least recently used entry, without marking it used. */
  oldest(): [K, V] | undefined {
    const first = this.map.entries().next();
    return first.done ? undefined : first.value;
  }

  /** Drops entries from the least recently used end while `stale` says so; stops at the first fresh one. */
  dropOldestWhile(stale: (value: V) => boolean): void {
    for (let entry = this.oldest(); entry !== undefined && stale(entry[1]); entry = this.oldest()) {
      this.map.delete(entry[0]);
    }
  }
}
