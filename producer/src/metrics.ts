import { Counter, Gauge, Histogram, type CounterConfiguration, type Registry } from 'prom-client';
import { MALFORMED_KINDS } from './binance-frames.js';

/** Everything the producer reports on `/metrics`. */
export interface ProducerMetrics {
  messagesIn: TalliedCounter<'stream'>;
  messagesOut: TalliedCounter<'topic'>;
  reconnects: Counter;
  renewals: Counter;
  resyncs: Counter<'reason'>;
  gaps: Counter<'stream'>;
  snapshots: Counter<'result'>;
  deliveryFailures: Counter<'topic'>;
  dropped: Counter<'topic' | 'reason'>;
  malformedFrames: Counter<'kind'>;
  queueDepth: Gauge;
  connectionsUp: Gauge;
  kafkaReachable: Gauge;
  receiveToAck: Histogram<'topic'>;
  tradesSkipped: Counter;
  tradesRepaired: Counter;
  tradesUnrepairable: Counter;
  repairPendingTrades: Gauge;
  repairPendingSymbols: Gauge;
  restRequests: Counter<'endpoint' | 'result'>;
  serverShutdowns: Counter;
  readingPaused: Gauge;
  readingPauses: Counter;
}

/** A per-message count kept as a plain number until its counter is read. */
export class Tally {
  private pending = 0;

  constructor(private readonly add: (count: number) => void) {}

  inc(): void {
    this.pending++;
  }

  flush(): void {
    if (this.pending === 0) return;
    this.add(this.pending);
    this.pending = 0;
  }
}

/**
 * A one-label counter counted per message on the hot path: each label value's Tally is
 * a plain number, added to the counter when the registry is read (prom-client calls
 * `collect` first), so a message costs no label hashing.
 */
export class TalliedCounter<T extends string> {
  readonly counter: Counter<T>;
  private readonly tallies = new Map<string, Tally>();

  constructor(
    private readonly label: T,
    config: Omit<CounterConfiguration<T>, 'labelNames' | 'collect'>,
  ) {
    this.counter = new Counter({ ...config, labelNames: [label], collect: () => this.flush() });
  }

  /** The tally of one label value; callers keep it. */
  tally(value: string): Tally {
    let tally = this.tallies.get(value);
    if (tally === undefined) {
      const labels = { [this.label]: value } as Partial<Record<T, string>>;
      tally = new Tally((count) => this.counter.inc(labels, count));
      this.tallies.set(value, tally);
    }
    return tally;
  }

  private flush(): void {
    for (const tally of this.tallies.values()) tally.flush();
  }
}

/** Binance REST endpoints the producer calls, and how a call can end. */
export const REST_ENDPOINTS = ['depth', 'historicalTrades', 'aggTrades'] as const;
export type RestEndpoint = (typeof REST_ENDPOINTS)[number];
export const REST_RESULTS = ['ok', 'rate-limited', 'failed', 'bad-answer'] as const;
export type RestResult = (typeof REST_RESULTS)[number];

/**
 * Registers the producer's metrics. Known label values start at 0, so that a series
 * exists (and rates work) before the first event.
 */
export function createProducerMetrics(registry: Registry, topics: string[] = []): ProducerMetrics {
  const registers = [registry];
  const metrics: ProducerMetrics = {
    messagesIn: new TalliedCounter('stream', {
      name: 'producer_messages_in_total',
      help: 'Frames received from Binance and accepted, per stream type (trade, depth), after de-duplication',
      registers,
    }),
    messagesOut: new TalliedCounter('topic', {
      name: 'producer_messages_out_total',
      help: 'Messages acknowledged by Kafka, per topic',
      registers,
    }),
    reconnects: new Counter({
      name: 'producer_reconnects_total',
      help: 'WebSocket connections re-established after a drop',
      registers,
    }),
    renewals: new Counter({
      name: 'producer_connection_renewals_total',
      help: 'WebSocket connections replaced without a gap before the exchange cut them',
      registers,
    }),
    resyncs: new Counter({
      name: 'producer_resyncs_total',
      help: 'Order-book resyncs (new snapshot), per reason: gap, reconnect, publish-failed',
      labelNames: ['reason'],
      registers,
    }),
    gaps: new Counter({
      name: 'producer_sequence_gaps_total',
      help: 'Sequence gaps seen: depth update ids or trade ids that skipped ahead',
      labelNames: ['stream'],
      registers,
    }),
    snapshots: new Counter({
      name: 'producer_snapshots_total',
      help: 'REST depth snapshots, per result: published, discarded',
      labelNames: ['result'],
      registers,
    }),
    deliveryFailures: new Counter({
      name: 'producer_delivery_failures_total',
      help: 'Messages Kafka reported as not delivered, per topic',
      labelNames: ['topic'],
      registers,
    }),
    dropped: new Counter({
      name: 'producer_dropped_messages_total',
      help: 'Messages not sent to Kafka, per topic and reason (queue-full)',
      labelNames: ['topic', 'reason'],
      registers,
    }),
    malformedFrames: new Counter({
      name: 'producer_malformed_frames_total',
      help: 'WebSocket frames skipped because they failed validation, per kind',
      labelNames: ['kind'],
      registers,
    }),
    queueDepth: new Gauge({
      name: 'producer_queue_depth',
      help: 'Messages handed to Kafka and not yet acknowledged',
      registers,
    }),
    connectionsUp: new Gauge({
      name: 'producer_connections_up',
      help: 'WebSocket connections currently open',
      registers,
    }),
    kafkaReachable: new Gauge({
      name: 'producer_kafka_reachable',
      help: '1 when a Kafka broker is connected, else 0',
      registers,
    }),
    receiveToAck: new Histogram({
      name: 'producer_receive_to_ack_seconds',
      help: 'Time from receiving a frame to Kafka acknowledging it, per topic',
      labelNames: ['topic'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers,
    }),
    tradesSkipped: new Counter({
      name: 'producer_trades_skipped_total',
      help: 'Streamed trades at or below the last published id of their symbol (published already), not sent again',
      registers,
    }),
    tradesRepaired: new Counter({
      name: 'producer_trades_repaired_total',
      help: 'Missed trades fetched over REST and sent to the trades topic (header source=rest)',
      registers,
    }),
    tradesUnrepairable: new Counter({
      name: 'producer_trades_unrepairable_total',
      help: 'Missed trade ids given up: past REPAIR_MAX_TRADES_PER_SYMBOL, or no longer served by the exchange',
      registers,
    }),
    repairPendingTrades: new Gauge({
      name: 'producer_repair_pending_trades',
      help: 'Missed trade ids waiting to be fetched over REST',
      registers,
    }),
    repairPendingSymbols: new Gauge({
      name: 'producer_repair_pending_symbols',
      help: 'Symbols with missed trades (or a backfill) waiting to be fetched over REST',
      registers,
    }),
    restRequests: new Counter({
      name: 'producer_rest_requests_total',
      help: 'Binance REST requests, per endpoint (depth, historicalTrades, aggTrades) and result (ok, rate-limited, failed, bad-answer)',
      labelNames: ['endpoint', 'result'],
      registers,
    }),
    serverShutdowns: new Counter({
      name: 'producer_server_shutdowns_total',
      help: 'serverShutdown events received; each renews its connection without a gap',
      registers,
    }),
    readingPaused: new Gauge({
      name: 'producer_reading_paused',
      help: '1 while the WebSocket streams are not read because the Kafka queue is above its high-water mark',
      registers,
    }),
    readingPauses: new Counter({
      name: 'producer_reading_pauses_total',
      help: 'Times reading the WebSocket streams paused for the Kafka queue to drain',
      registers,
    }),
  };
  for (const stream of ['trade', 'depth']) {
    metrics.messagesIn.counter.inc({ stream }, 0);
    metrics.gaps.inc({ stream }, 0);
  }
  for (const reason of ['gap', 'reconnect', 'publish-failed']) metrics.resyncs.inc({ reason }, 0);
  for (const result of ['published', 'discarded']) metrics.snapshots.inc({ result }, 0);
  for (const kind of MALFORMED_KINDS) metrics.malformedFrames.inc({ kind }, 0);
  for (const endpoint of REST_ENDPOINTS) {
    for (const result of REST_RESULTS) metrics.restRequests.inc({ endpoint, result }, 0);
  }
  for (const topic of topics) {
    metrics.messagesOut.counter.inc({ topic }, 0);
    metrics.deliveryFailures.inc({ topic }, 0);
    metrics.dropped.inc({ topic, reason: 'queue-full' }, 0);
  }
  return metrics;
}
