import type { DepthSnapshotBody } from '@candleflow/common/binance-events';
import type { ReplayLine, ReplayRecording } from './replay-file.js';

/** Pause between the end of a recording and its next pass when looping (recorded ms). */
export const LOOP_GAP_MS = 100;

/**
 * Where a replay stands in its recording: the next line, when it is due in recorded
 * time (counted from the first line, across loop passes), and which snapshot REST
 * should answer with at this point. No clock and no I/O.
 */
export class ReplayTimeline {
  private position = 0;
  private pass = 0;
  private readonly firstTs: number;
  private readonly passMs: number;
  /** Per symbol, the line indexes and bodies of its snapshots, in order. */
  private readonly snapshots = new Map<string, { index: number; body: DepthSnapshotBody }[]>();

  constructor(
    readonly recording: ReplayRecording,
    private readonly loop: boolean,
  ) {
    const lines = recording.lines;
    this.firstTs = lines[0]?.ts ?? 0;
    this.passMs = (lines[lines.length - 1]?.ts ?? 0) - this.firstTs + LOOP_GAP_MS;
    lines.forEach((line, index) => {
      if (line.kind !== 'rest') return;
      const list = this.snapshots.get(line.symbol) ?? [];
      list.push({ index, body: line.body });
      this.snapshots.set(line.symbol, list);
    });
  }

  /** The next line, or undefined at the end of a recording that does not loop. */
  peek(): ReplayLine | undefined {
    return this.recording.lines[this.position];
  }

  /** Recorded ms from the start of the replay to the next line (grows across loop passes). */
  nextDueMs(): number {
    const line = this.peek();
    return line === undefined ? Number.POSITIVE_INFINITY : this.pass * this.passMs + line.ts - this.firstTs;
  }

  /** Moves past the next line; at the end, starts the next pass when looping. */
  advance(): void {
    if (this.position >= this.recording.lines.length) return;
    this.position++;
    if (this.position === this.recording.lines.length && this.loop) {
      this.position = 0;
      this.pass++;
    }
  }

  get finished(): boolean {
    return this.peek() === undefined;
  }

  /** Completed passes over the recording. */
  get passes(): number {
    return this.pass;
  }

  hasSnapshots(symbol: string): boolean {
    return this.snapshots.has(symbol);
  }

  /**
   * The latest recorded snapshot of `symbol` at or before the replay's current point in
   * this pass, or the first one if the replay has not reached any yet.
   */
  snapshot(symbol: string): DepthSnapshotBody | undefined {
    const list = this.snapshots.get(symbol);
    if (!list) return undefined;
    let lo = 0;
    let hi = list.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((list[mid]?.index ?? 0) < this.position) lo = mid + 1;
      else hi = mid;
    }
    return list[Math.max(0, lo - 1)]?.body;
  }
}
