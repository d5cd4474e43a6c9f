import type { Logger } from '@candleflow/common/logger';
import type { DepthDiffMessage, MarketMessage, TradeMessage } from './binance-frames.js';
import type { StreamEvent } from './binance-stream.js';
import type { OutgoingMessage } from './kafka-sink.js';
import type { ProducerMetrics, Tally } from './metrics.js';
import { OrderBookSync, type SyncDecision } from './orderbook-sync.js';
import { RateLimitedLog } from './rate-limited-log.js';
import type { DepthSnapshot } from './snapshot-fetcher.js';
import type { IdRange, TradeContinuity } from './trade-continuity.js';

/** Where messages go; KafkaSink in production. */
export interface MessageSink {
  /** False when the message could not be queued (already counted and logged by the sink). */
  send(message: OutgoingMessage): boolean;
  /** Resolves when the sink can take a burst (a snapshot and the diffs after it). */
  waitForRoom(): Promise<void>;
}

export interface SnapshotSource {
  fetch(symbol: string): Promise<DepthSnapshot>;
}

/** Where missed trades go to be fetched over REST; TradeRepairer in production. */
export interface TradeRepair {
  addHole(symbol: string, range: IdRange): void;
  addBackfill(symbol: string, sinceMs: number, beforeId: number): void;
}

export interface PublisherOptions {
  topics: { trades: string; depth: string };
  sink: MessageSink;
  snapshots: SnapshotSource;
  /** Each symbol's last published trade id, started from the topic's tail. */
  continuity: TradeContinuity;
  repair: TradeRepair;
  metrics: ProducerMetrics;
  logger: Logger;
}

type TimedDiff = DepthDiffMessage & { receivedAt: number };
type Decision = SyncDecision<TimedDiff, DepthSnapshot>;

/**
 * Routes stream events to Kafka: trades to the trades topic, each id once (a jump in
 * ids, or a trade Kafka could not take, goes to the REST repair); depth diffs through
 * each symbol's OrderBookSync, carrying out its decisions (fetch snapshots, publish the
 * snapshot event, then only the diffs that extend it).
 */
export class Publisher {
  private readonly syncs = new Map<string, OrderBookSync<TimedDiff, DepthSnapshot>>();
  private readonly malformedLog: RateLimitedLog;
  private readonly resyncLog: RateLimitedLog;
  private readonly messagesIn: Record<MarketMessage['kind'], Tally>;
  private stopped = false;

  constructor(private readonly options: PublisherOptions) {
    this.malformedLog = new RateLimitedLog(options.logger, 60_000);
    this.resyncLog = new RateLimitedLog(options.logger, 10_000);
    const { messagesIn } = options.metrics;
    this.messagesIn = { trade: messagesIn.tally('trade'), depth: messagesIn.tally('depth') };
  }

  /** Reads a stream until it ends. */
  async consume(events: AsyncIterable<StreamEvent>): Promise<void> {
    for await (const event of events) this.handle(event);
  }

  handle(event: StreamEvent): void {
    const { metrics } = this.options;
    switch (event.type) {
      case 'message': {
        const { message, receivedAt } = event;
        this.messagesIn[message.kind].inc();
        if (message.kind === 'trade') {
          this.publishTrade(message, receivedAt);
        } else {
          this.apply(message.symbol, this.syncFor(message.symbol).onDiff({ ...message, receivedAt }));
        }
        return;
      }
      case 'malformed':
        metrics.malformedFrames.inc({ kind: event.kind });
        this.malformedLog.warn(
          event.kind,
          { kind: event.kind, stream: event.stream, reason: event.reason },
          `skipped a malformed frame (${event.kind}): ${event.reason}`,
        );
        return;
      case 'reconnected':
        metrics.reconnects.inc();
        for (const symbol of event.symbols) this.apply(symbol, this.syncFor(symbol).onReconnect());
        return;
      case 'renewed':
        metrics.renewals.inc();
        return;
      case 'server-shutdown':
        metrics.serverShutdowns.inc();
        return;
    }
  }

  /** Kafka gave up on a message: a lost trade is repaired, a lost depth message resyncs its book. */
  onDeliveryFailed(message: OutgoingMessage, reason: string): void {
    if (message.topic === this.options.topics.trades && message.tradeId !== undefined) {
      this.options.repair.addHole(message.key, { from: message.tradeId, to: message.tradeId });
      return;
    }
    if (message.topic !== this.options.topics.depth) return;
    this.apply(message.key, this.syncFor(message.key).onPublishFailed(`delivery failed: ${reason}`));
  }

  /** No more snapshot requests are started. */
  stop(): void {
    this.stopped = true;
  }

  private publishTrade(message: TradeMessage, receivedAt: number): void {
    const { continuity, repair, metrics, sink, topics } = this.options;
    const { symbol, tradeId } = message;
    const verdict = continuity.onStreamTrade(symbol, tradeId);
    if (verdict.action === 'skip') {
      metrics.tradesSkipped.inc();
      return;
    }
    if (verdict.hole !== undefined) {
      metrics.gaps.inc({ stream: 'trade' });
      repair.addHole(symbol, verdict.hole);
    }
    if (verdict.backfill !== undefined) repair.addBackfill(symbol, verdict.backfill.sinceMs, tradeId);
    const sent = sink.send({ topic: topics.trades, key: symbol, value: message.raw, receivedAt, tradeId });
    // Dropped (queue full): the id is a hole like any other.
    if (!sent) repair.addHole(symbol, { from: tradeId, to: tradeId });
  }

  private syncFor(symbol: string): OrderBookSync<TimedDiff, DepthSnapshot> {
    let sync = this.syncs.get(symbol);
    if (sync === undefined) {
      sync = new OrderBookSync();
      this.syncs.set(symbol, sync);
    }
    return sync;
  }

  private apply(symbol: string, decisions: Decision[]): void {
    const { metrics, topics, sink, logger } = this.options;
    for (const decision of decisions) {
      switch (decision.action) {
        case 'buffer':
          break;
        case 'request-snapshot':
          void this.fetchSnapshot(symbol);
          break;
        case 'publish-snapshot': {
          const { snapshot } = decision;
          const value = JSON.stringify({
            e: 'depthSnapshot',
            E: snapshot.receivedAt,
            s: symbol,
            lastUpdateId: snapshot.lastUpdateId,
            bids: snapshot.bids,
            asks: snapshot.asks,
          });
          if (!sink.send({ topic: topics.depth, key: symbol, value, receivedAt: snapshot.receivedAt })) {
            this.apply(symbol, this.syncFor(symbol).onPublishFailed('the snapshot could not be queued'));
            return;
          }
          metrics.snapshots.inc({ result: 'published' });
          logger.debug({ symbol, lastUpdateId: snapshot.lastUpdateId }, 'order book synced');
          break;
        }
        case 'publish-diff': {
          const { diff } = decision;
          if (!sink.send({ topic: topics.depth, key: symbol, value: diff.raw, receivedAt: diff.receivedAt })) {
            this.apply(symbol, this.syncFor(symbol).onPublishFailed('a diff could not be queued'));
            return;
          }
          break;
        }
        case 'drop':
          if (decision.reason === 'overflow') {
            this.resyncLog.warn(
              `overflow-${symbol}`,
              { symbol },
              `${symbol}: too many diffs waiting for a snapshot; dropping the oldest`,
            );
          }
          break;
        case 'discard-snapshot':
          metrics.snapshots.inc({ result: 'discarded' });
          logger.debug(
            { symbol, reason: decision.reason, lastUpdateId: decision.snapshot.lastUpdateId },
            'snapshot not usable',
          );
          break;
        case 'resync':
          metrics.resyncs.inc({ reason: decision.reason });
          if (decision.reason === 'gap') metrics.gaps.inc({ stream: 'depth' });
          this.resyncLog.warn(
            `resync-${symbol}`,
            { symbol, reason: decision.reason },
            `${symbol}: order book resync (${decision.reason}): ${decision.detail}`,
          );
          break;
      }
    }
  }

  private async fetchSnapshot(symbol: string): Promise<void> {
    let snapshot: DepthSnapshot;
    try {
      await this.options.sink.waitForRoom();
      if (this.stopped) return;
      snapshot = await this.options.snapshots.fetch(symbol);
    } catch (error) {
      if (!this.stopped) this.options.logger.error({ symbol, err: error }, `${symbol}: snapshot fetch stopped`);
      return;
    }
    if (this.stopped) return;
    this.apply(symbol, this.syncFor(symbol).onSnapshot(snapshot));
  }
}
