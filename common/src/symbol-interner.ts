/**
 * One string per symbol for the symbols read from message bytes: a hot path looks the
 * bytes up instead of building a new string for every message (the same few hundred
 * symbols arrive again and again). Bounded, so that hostile input with ever new symbols
 * costs a string per message, as without the table, and never memory.
 */
export class SymbolInterner {
  private readonly byHash = new Map<number, string>();

  constructor(private readonly capacity = 4096) {}

  /** The latin1 text of `bytes[start, end)`, shared with earlier calls for the same bytes. */
  get(bytes: Buffer, start: number, end: number): string {
    // FNV-1a over the bytes: symbols are short, and a collision only means a fresh string.
    let hash = 0x811c9dc5;
    for (let i = start; i < end; i++) hash = Math.imul(hash ^ (bytes[i] as number), 0x01000193);
    const known = this.byHash.get(hash);
    if (known !== undefined && sameText(known, bytes, start, end)) return known;
    const text = bytes.toString('latin1', start, end);
    if (known === undefined && this.byHash.size < this.capacity) this.byHash.set(hash, text);
    return text;
  }
}

function sameText(text: string, bytes: Buffer, start: number, end: number): boolean {
  if (text.length !== end - start) return false;
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) !== bytes[start + i]) return false;
  return true;
}
