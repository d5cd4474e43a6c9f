import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** The aggregator's Prometheus metrics, registered on one registry. */
export function createAggregatorMetrics(registry: Registry) {
  const registers = [registry];
  return {
    consumerLag: new Gauge({
      name: 'aggregator_consumer_lag',
      help: 'Messages between the last one processed and the partition end, per topic partition',
      labelNames: ['topic', 'partition'] as const,
      registers,
    }),
    messages: new Counter({
      name: 'aggregator_messages_total',
      help: 'Kafka messages processed, per topic',
      labelNames: ['topic'] as const,
      registers,
    }),
    rowsInserted: new Counter({
      name: 'aggregator_rows_inserted_total',
      help: 'Rows written to ClickHouse, per table',
      labelNames: ['table'] as const,
      registers,
    }),
    insertSeconds: new Histogram({
      name: 'aggregator_insert_duration_seconds',
      help: 'Time of one successful ClickHouse insert, per table',
      labelNames: ['table'] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
    clickhouseErrors: new Counter({
      name: 'aggregator_clickhouse_errors_total',
      help: 'Failed ClickHouse requests, by kind: unavailable and query are retried, data is split to find the refused rows',
      labelNames: ['operation', 'kind'] as const,
      registers,
    }),
    clickhouseUp: new Gauge({
      name: 'aggregator_clickhouse_up',
      help: '1 while the last ClickHouse request succeeded',
      registers,
    }),
    windowsEmitted: new Counter({
      name: 'aggregator_windows_emitted_total',
      help: 'Window rows written, open (forming) or final',
      labelNames: ['state'] as const,
      registers,
    }),
    windowsRecomputed: new Counter({
      name: 'aggregator_windows_recomputed_total',
      help: 'Final windows re-written from stored trades after late trades',
      registers,
    }),
    lateTrades: new Counter({
      name: 'aggregator_late_trades_total',
      help: 'Trades for windows that were already final (their window is recomputed)',
      registers,
    }),
    duplicateTrades: new Counter({
      name: 'aggregator_duplicate_trades_total',
      help: 'Trades already counted in their open window (same symbol and trade id)',
      registers,
    }),
    dlqMessages: new Counter({
      name: 'aggregator_dlq_messages_total',
      help: 'Messages and refused rows sent to the dead-letter topic, per source topic and reason',
      labelNames: ['topic', 'reason'] as const,
      registers,
    }),
    dlqTruncated: new Counter({
      name: 'aggregator_dlq_truncated_total',
      help: 'Dead letters whose value was cut to fit the dead-letter topic (a header gives the original size)',
      registers,
    }),
    dlqDropped: new Counter({
      name: 'aggregator_dlq_dropped_total',
      help: 'Dead letters the broker refused even cut down; logged with their source, then skipped',
      registers,
    }),
    depthGaps: new Counter({
      name: 'aggregator_depth_gaps_total',
      help: 'Diffs whose first update id skips ids with no snapshot before them (an upstream error)',
      labelNames: ['symbol'] as const,
      registers,
    }),
    depthResyncs: new Counter({
      name: 'aggregator_depth_resyncs_total',
      help: 'Snapshots that restart a symbol after earlier depth events',
      labelNames: ['symbol'] as const,
      registers,
    }),
    depthStale: new Counter({
      name: 'aggregator_depth_stale_total',
      help: 'Diffs whose update ids were all covered already',
      labelNames: ['symbol'] as const,
      registers,
    }),
    openWindows: new Gauge({
      name: 'aggregator_open_windows',
      help: 'Windows currently open in memory',
      registers,
    }),
    pendingBatches: new Gauge({
      name: 'aggregator_pending_batches',
      help: 'Write batches cut and not yet durable',
      registers,
    }),
    paused: new Gauge({
      name: 'aggregator_consumer_paused',
      help: '1 while reading from Kafka is paused because writes are behind',
      registers,
    }),
    pauses: new Counter({
      name: 'aggregator_consumer_pauses_total',
      help: 'Times reading from Kafka was paused because writes were behind',
      registers,
    }),
    commits: new Counter({
      name: 'aggregator_offset_commits_total',
      help: 'Offset commits, by result',
      labelNames: ['result'] as const,
      registers,
    }),
  };
}

export type AggregatorMetrics = ReturnType<typeof createAggregatorMetrics>;
