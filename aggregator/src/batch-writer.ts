import { windowRecord } from './clickhouse-records.js';
import type { ClickhouseSink } from './clickhouse-sink.js';
import type { AggregatorMetrics } from './metrics.js';
import { recomputeWindows, type StoredTrade } from './window-recompute.js';
import type { CommitOffset, DlqMessage, WriteBatch } from './write-batch.js';

export interface BatchWriterDeps {
  sink: ClickhouseSink;
  windowMs: number;
  metrics: AggregatorMetrics;
  /** Sends dead letters; resolves once the broker has them. */
  publishDeadLetters: (messages: DlqMessage[]) => Promise<void>;
  /** Commits offsets the batch made safe (best effort: a failed commit only means re-reading). */
  commit: (offsets: CommitOffset[]) => Promise<void>;
}

/**
 * Makes one batch durable, in the order that keeps a crash at any point harmless: trades
 * first (late windows are recomputed from them), then window and order-book rows, then the
 * dead letters, and only then the offsets.
 */
export async function writeBatch(batch: WriteBatch, deps: BatchWriterDeps): Promise<void> {
  const { sink, metrics } = deps;
  await sink.insert('trades', batch.records.trades);
  const windows = [...batch.records.trade_windows];
  if (batch.lateWindows.length > 0) {
    const rows = await recomputeWindows(batch.lateWindows, deps.windowMs, (sql) => sink.query<StoredTrade>(sql));
    windows.push(...rows.map(windowRecord));
    metrics.windowsRecomputed.inc(rows.length);
  }
  await Promise.all([
    sink.insert('trade_windows', windows),
    sink.insert('orderbook_snapshots', batch.records.orderbook_snapshots),
    sink.insert('orderbook_updates', batch.records.orderbook_updates),
  ]);
  const finals = windows.filter((w) => w.is_final === 1).length;
  if (finals > 0) metrics.windowsEmitted.inc({ state: 'final' }, finals);
  if (windows.length > finals) metrics.windowsEmitted.inc({ state: 'open' }, windows.length - finals);
  if (batch.dlq.length > 0) await deps.publishDeadLetters(batch.dlq);
  if (batch.offsets.length > 0) await deps.commit(batch.offsets);
}
