// A Map that keeps at most `maxEntries`, the oldest set first out: the auth check's in-process
// memories (DNS answers, parsed DKIM keys, SPF verdicts) must not grow with the senders seen.

export class BoundedMap<Key, Value> {
  private readonly entries = new Map<Key, Value>();
  constructor(private readonly maxEntries: number) {}

  get(key: Key): Value | undefined {
    return this.entries.get(key);
  }

  /** Sets `key` as the newest entry; the oldest go while there are too many (a Map keeps insertion order). */
  set(key: Key, value: Value): void {
    this.entries.delete(key);
    this.entries.set(key, value);
    while (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
  }

  /** Deletes `key` only while it still holds `value`: a newer entry set meanwhile stays. */
  deleteIf(key: Key, value: Value): void {
    if (this.entries.get(key) === value) this.entries.delete(key);
  }
}
