import { recordJson, windowRecord, type TableName } from './clickhouse-records.js';
import type { ClickhouseSink, RefusedRow } from './clickhouse-sink.js';
import { rowDeadLetter } from './dead-letters.js';
import type { Topics } from './message-processor.js';
import type { AggregatorMetrics } from './metrics.js';
import { recomputeWindows, type StoredTrade } from './window-recompute.js';
import type { CommitOffset, DlqMessage, WriteBatch } from './write-batch.js';

export interface BatchWriterDeps {
  sink: ClickhouseSink;
  topics: Topics;
  windowMs: number;
  metrics: AggregatorMetrics;
  /** Commits the offsets the batch made safe, with its dead letters (resolves once the broker has those). */
  commit: (offsets: CommitOffset[], deadLetters: DlqMessage[]) => Promise<void>;
}

/** The topic whose messages a table's rows are built from. */
function sourceTopic(table: TableName, topics: Topics): string {
  return table === 'trades' || table === 'trade_windows' ? topics.trades : topics.depth;
}

/**
 * Makes one batch durable, in the order that keeps a crash at any point harmless: trades
 * first (late windows are recomputed from them), then window and order-book rows, and only
 * then the offsets, together with the dead letters (messages that broke the input
 * contract, rows ClickHouse refused).
 */
export async function writeBatch(batch: WriteBatch, deps: BatchWriterDeps): Promise<void> {
  const { sink, metrics } = deps;
  const refused: RefusedRow[] = await sink.insert('trades', batch.records.trades);
  const windows = [...batch.records.trade_windows];
  if (batch.lateWindows.length > 0) {
    const rows = await recomputeWindows(batch.lateWindows, deps.windowMs, (sql) => sink.query<StoredTrade>(sql));
    windows.push(...rows.map(windowRecord));
    metrics.windowsRecomputed.inc(rows.length);
  }
  const later = await Promise.all([
    sink.insert('trade_windows', windows),
    sink.insert('orderbook_snapshots', batch.records.orderbook_snapshots),
    sink.insert('orderbook_updates', batch.records.orderbook_updates),
  ]);
  for (const rows of later) refused.push(...rows);
  const finals = windows.filter((w) => w.is_final === 1).length;
  if (finals > 0) metrics.windowsEmitted.inc({ state: 'final' }, finals);
  if (windows.length > finals) metrics.windowsEmitted.inc({ state: 'open' }, windows.length - finals);
  const dlq = [...batch.dlq];
  for (const { table, row, reason } of refused) {
    const topic = sourceTopic(table, deps.topics);
    metrics.dlqMessages.inc({ topic, reason: 'clickhouse_refused' });
    dlq.push(rowDeadLetter(topic, table, recordJson(table, row), reason));
  }
  if (dlq.length > 0 || batch.offsets.length > 0) await deps.commit(batch.offsets, dlq);
}
