/**
 * Binance's order-book sync procedure for one symbol, as a state machine with no I/O.
 * It is fed diffs, snapshots and connection events, and answers with decisions the
 * caller carries out in order (publish to Kafka, fetch a snapshot, ...). Every decision
 * sequence keeps one promise: the published stream (a snapshot, then only diffs that
 * extend it) rebuilds the book exactly.
 *
 * Rules (Binance's procedure as revised in 2024-12 and 2025-11): buffer diffs; fetch a
 * snapshot; if its `lastUpdateId` is below the first buffered `U`, fetch again; drop diffs
 * with `u <= lastUpdateId`; then apply every diff whose `u` is above the local update id:
 * it is a gap only when `U > local + 1`, so a diff that overlaps the book
 * (`U <= local + 1 <= u`) extends it, first or not. A gap, a reconnect or a diff that
 * could not be published means a resync (new snapshot).
 */

export interface SequencedDiff {
  /** First update id in the diff (Binance `U`). */
  firstUpdateId: number;
  /** Final update id in the diff (Binance `u`). */
  finalUpdateId: number;
}

export interface SequencedSnapshot {
  lastUpdateId: number;
}

export type ResyncReason = 'gap' | 'reconnect' | 'publish-failed';

export type SyncDecision<D extends SequencedDiff, S extends SequencedSnapshot> =
  /** Held until a snapshot arrives. */
  | { action: 'buffer'; diff: D }
  /** Fetch a REST snapshot and hand it to `onSnapshot`; never asked twice at once. */
  | { action: 'request-snapshot' }
  /** The snapshot starts a synced segment: publish it before the diffs that follow. */
  | { action: 'publish-snapshot'; snapshot: S }
  /** The diff extends the published book. */
  | { action: 'publish-diff'; diff: D }
  /** Not published: already covered by the snapshot (`stale`), seen before (`duplicate`), or the buffer was full (`overflow`). */
  | { action: 'drop'; diff: D; reason: 'stale' | 'duplicate' | 'overflow' }
  /** The snapshot is not usable (older than the buffered diffs, or no diffs to anchor it); another is requested when needed. */
  | { action: 'discard-snapshot'; snapshot: S; reason: 'older-than-diffs' | 'no-buffered-diffs' }
  /** The synced segment ended; the next published snapshot starts a new one. */
  | { action: 'resync'; reason: ResyncReason; detail: string };

type State = 'waiting-for-diff' | 'waiting-for-snapshot' | 'synced';

export class OrderBookSync<D extends SequencedDiff, S extends SequencedSnapshot> {
  private state: State = 'waiting-for-diff';
  private buffer: D[] = [];
  private snapshotRequested = false;
  /** Final update id of the published book (snapshot or last diff), when synced. */
  private lastUpdateId = 0;
  /** Whether a diff has been applied on top of the current snapshot (a covered diff is then a duplicate, not stale). */
  private bridged = false;

  /** `maxBuffered` bounds memory while a snapshot is slow to come; the oldest diffs go first. */
  constructor(private readonly maxBuffered = 10_000) {}

  get synced(): boolean {
    return this.state === 'synced';
  }

  /** Update id of the last published book state, when synced. */
  get publishedUpdateId(): number | undefined {
    return this.state === 'synced' ? this.lastUpdateId : undefined;
  }

  onDiff(diff: D): SyncDecision<D, S>[] {
    if (this.state === 'synced') return this.extend(diff);
    const out: SyncDecision<D, S>[] = [];
    this.pushBuffer(diff, out);
    this.state = 'waiting-for-snapshot';
    this.requestSnapshot(out);
    return out;
  }

  onSnapshot(snapshot: S): SyncDecision<D, S>[] {
    this.snapshotRequested = false;
    const first = this.buffer[0];
    if (this.state !== 'waiting-for-snapshot' || first === undefined) {
      return [{ action: 'discard-snapshot', snapshot, reason: 'no-buffered-diffs' }];
    }
    if (snapshot.lastUpdateId < first.firstUpdateId) {
      const out: SyncDecision<D, S>[] = [{ action: 'discard-snapshot', snapshot, reason: 'older-than-diffs' }];
      this.requestSnapshot(out);
      return out;
    }
    const out: SyncDecision<D, S>[] = [{ action: 'publish-snapshot', snapshot }];
    this.state = 'synced';
    this.lastUpdateId = snapshot.lastUpdateId;
    this.bridged = false;
    const buffered = this.buffer;
    this.buffer = [];
    for (const diff of buffered) {
      if (this.state === 'synced') out.push(...this.extend(diff));
      else this.pushBuffer(diff, out);
    }
    return out;
  }

  /** The connection carrying this symbol was replaced: diffs may have been lost. */
  onReconnect(): SyncDecision<D, S>[] {
    return this.restart('reconnect', 'the connection was re-established');
  }

  /** A published diff or snapshot did not reach Kafka, so the published book has a hole. */
  onPublishFailed(detail: string): SyncDecision<D, S>[] {
    return this.restart('publish-failed', detail);
  }

  private restart(reason: ResyncReason, detail: string): SyncDecision<D, S>[] {
    const wasIdle = this.state === 'waiting-for-diff' && this.buffer.length === 0;
    this.state = 'waiting-for-diff';
    this.buffer = [];
    return wasIdle ? [] : [{ action: 'resync', reason, detail }];
  }

  private extend(diff: D): SyncDecision<D, S>[] {
    if (diff.finalUpdateId <= this.lastUpdateId) {
      return [{ action: 'drop', diff, reason: this.bridged ? 'duplicate' : 'stale' }];
    }
    const next = this.lastUpdateId + 1;
    if (diff.firstUpdateId <= next) {
      this.lastUpdateId = diff.finalUpdateId;
      this.bridged = true;
      return [{ action: 'publish-diff', diff }];
    }
    const out: SyncDecision<D, S>[] = [
      {
        action: 'resync',
        reason: 'gap',
        detail: `expected update ${next}, got ${diff.firstUpdateId}..${diff.finalUpdateId}`,
      },
    ];
    this.state = 'waiting-for-snapshot';
    this.buffer = [];
    this.pushBuffer(diff, out);
    this.requestSnapshot(out);
    return out;
  }

  private pushBuffer(diff: D, out: SyncDecision<D, S>[]): void {
    this.buffer.push(diff);
    if (this.buffer.length > this.maxBuffered) {
      const oldest = this.buffer.shift();
      if (oldest) out.push({ action: 'drop', diff: oldest, reason: 'overflow' });
    }
    out.push({ action: 'buffer', diff });
  }

  private requestSnapshot(out: SyncDecision<D, S>[]): void {
    if (this.snapshotRequested) return;
    this.snapshotRequested = true;
    out.push({ action: 'request-snapshot' });
  }
}
