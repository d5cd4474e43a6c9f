import type { TableName, TableRecords } from './clickhouse-records.js';
import type { DlqReason } from './topic-messages.js';
import type { LateWindow } from './tumbling-window.js';

/** A message that broke the input contract, or a row ClickHouse refused, on its way to the dead-letter topic. */
export interface DlqMessage {
  sourceTopic: string;
  reason: DlqReason;
  value: Buffer | null;
  headers: Record<string, string | Buffer>;
}

/** An offset that may be committed once its batch is durable. */
export interface CommitOffset {
  topic: string;
  partition: number;
  /** The next offset to read, as Kafka commits it. */
  offset: number;
  /**
   * Every message before this offset is in this batch or an earlier one (rows, dead
   * letters): once the batch is committed, a later reader re-reads the messages from
   * `offset` to here for the open windows only.
   */
  processedTo: number;
  /** Identity of the partition's ownership when the offset was taken; a later owner discards it. */
  owner: object;
}

/**
 * Everything one write step makes durable, and the offsets it makes committable: the rows
 * of the messages read since the previous batch, the late windows to recompute, the
 * messages for the dead-letter topic.
 */
export interface WriteBatch {
  records: TableRecords;
  lateWindows: LateWindow[];
  dlq: DlqMessage[];
  offsets: CommitOffset[];
}

function emptyRecords(): TableRecords {
  return { trades: [], trade_windows: [], orderbook_snapshots: [], orderbook_updates: [] };
}

/** Collects rows until a batch is due by row count or by time. */
export class BatchAccumulator {
  private records = emptyRecords();
  private lateWindows: LateWindow[] = [];
  private dlq: DlqMessage[] = [];
  private rows = 0;
  private lastCutMs: number;

  constructor(
    private readonly limits: { batchRows: number; flushMs: number },
    nowMs: number,
  ) {
    this.lastCutMs = nowMs;
  }

  add<T extends TableName>(table: T, records: TableRecords[T]): void {
    for (const record of records) (this.records[table] as TableRecords[T][number][]).push(record);
    this.rows += records.length;
  }

  /** One row: what `add` does for a list, without the list. */
  addRow<T extends TableName>(table: T, record: TableRecords[T][number]): void {
    (this.records[table] as TableRecords[T][number][]).push(record);
    this.rows += 1;
  }

  addLateWindows(windows: LateWindow[]): void {
    this.lateWindows.push(...windows);
    this.rows += windows.length;
  }

  addDlq(message: DlqMessage): void {
    this.dlq.push(message);
    this.rows += 1;
  }

  /** Rows, late windows and dead letters held. */
  get size(): number {
    return this.rows;
  }

  isFull(): boolean {
    return this.rows >= this.limits.batchRows;
  }

  isDue(nowMs: number): boolean {
    return nowMs - this.lastCutMs >= this.limits.flushMs;
  }

  cut(offsets: CommitOffset[], nowMs: number): WriteBatch {
    const batch = { records: this.records, lateWindows: this.lateWindows, dlq: this.dlq, offsets };
    this.records = emptyRecords();
    this.lateWindows = [];
    this.dlq = [];
    this.rows = 0;
    this.lastCutMs = nowMs;
    return batch;
  }
}
