/**
 * Merges the frames of two connections carrying the same streams, as during a
 * connection renewal, so that each update reaches Kafka once and in order.
 *
 * Each item names its stream and the id range it covers (a trade: `t..t`; a depth diff:
 * `U..u`). Per stream, a watermark remembers the last id forwarded. The primary (older)
 * connection's items are forwarded unless already covered. The secondary (newer)
 * connection's items are forwarded only when they continue the watermark exactly; items
 * ahead of it are held, because the primary may still deliver the ids in between. When
 * the primary goes away, `promote()` makes the secondary primary and releases what it held.
 */

export interface RangedItem {
  stream: string;
  first: number;
  last: number;
}

export type FrameSource = 'primary' | 'secondary';

export class OverlapDedupe<T extends RangedItem> {
  private readonly watermarks = new Map<string, number>();
  private readonly held = new Map<string, T[]>();
  /** Items dropped because an earlier item already covered them. */
  duplicates = 0;

  /** Takes one item; returns the items to forward now, in order. */
  offer(source: FrameSource, item: T): T[] {
    const out: T[] = [];
    if (source === 'primary') {
      if (this.covered(item)) this.duplicates++;
      else this.forward(item, out);
      this.releaseContiguous(item.stream, out);
      return out;
    }
    if (this.covered(item)) {
      this.duplicates++;
      return out;
    }
    const held = this.held.get(item.stream);
    const mark = this.watermarks.get(item.stream);
    if (held === undefined && mark !== undefined && item.first === mark + 1) {
      this.forward(item, out);
    } else if (held === undefined) {
      this.held.set(item.stream, [item]);
    } else {
      held.push(item);
    }
    return out;
  }

  /** The primary connection is gone: everything held from the secondary is released in order. */
  promote(): T[] {
    const out: T[] = [];
    for (const [stream, items] of this.held) {
      this.held.delete(stream);
      for (const item of items) {
        if (this.covered(item)) this.duplicates++;
        else this.forward(item, out);
      }
    }
    return out;
  }

  /** The secondary connection went away before taking over: forget what it held. */
  discardHeld(): void {
    this.held.clear();
  }

  /** Items currently held from the secondary connection. */
  get heldCount(): number {
    let n = 0;
    for (const items of this.held.values()) n += items.length;
    return n;
  }

  private covered(item: T): boolean {
    const mark = this.watermarks.get(item.stream);
    return mark !== undefined && item.last <= mark;
  }

  private forward(item: T, out: T[]): void {
    this.watermarks.set(item.stream, item.last);
    out.push(item);
  }

  /** After the primary moved the watermark, held secondary items may now continue it or be covered. */
  private releaseContiguous(stream: string, out: T[]): void {
    const items = this.held.get(stream);
    if (items === undefined) return;
    while (items.length > 0) {
      const next = items[0] as T;
      const mark = this.watermarks.get(stream);
      if (this.covered(next)) {
        this.duplicates++;
      } else if (mark !== undefined && next.first === mark + 1) {
        this.forward(next, out);
      } else {
        break;
      }
      items.shift();
    }
    if (items.length === 0) this.held.delete(stream);
  }
}
