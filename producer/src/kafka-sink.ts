import { setTimeout as sleep } from 'node:timers/promises';
import Kafka, { type DeliveryReport, type LibrdKafkaError } from 'node-rdkafka';
import { RECEIVE_TIME_HEADER, type REST_SOURCE, SOURCE_HEADER } from '@candleflow/common/binance-events';
import type { Logger } from '@candleflow/common/logger';
import type { Histogram } from 'prom-client';
import type { ProducerMetrics, Tally } from './metrics.js';
import { RateLimitedLog } from './rate-limited-log.js';

/** One record for Kafka: `value` is the Binance JSON as received (or the producer's snapshot event, or a repaired trade). */
export interface OutgoingMessage {
  topic: string;
  /** The symbol, so that each symbol's messages share a partition and keep their order. */
  key: string;
  /** Bytes as received (a slice of the WebSocket frame), or text the producer wrote. */
  value: Buffer | string;
  /** When the frame (or snapshot, or REST answer) was received, in ms. */
  receivedAt: number;
  /** A trade's id, so that a trade Kafka did not take can be fetched again. */
  tradeId?: number;
  /** `rest` for trades fetched over REST to fill a hole: sent as Kafka header `source`. */
  source?: typeof REST_SOURCE;
}

export interface KafkaSinkOptions {
  brokers: string[];
  /** Messages waiting for Kafka's acknowledgement at most; past it, new messages are dropped and counted. */
  maxQueueMessages: number;
  /** Batch compression; lz4 unless a consumer cannot read it. */
  compression?: 'lz4' | 'gzip' | 'snappy' | 'zstd' | 'none';
  /** librdkafka's linger.ms (default 50). */
  lingerMs?: number;
  logger: Logger;
  metrics: Pick<ProducerMetrics, 'messagesOut' | 'deliveryFailures' | 'dropped' | 'receiveToAck'>;
  /** Called for every message Kafka reported as not delivered. */
  onDeliveryFailed?: (message: OutgoingMessage, reason: string) => void;
  /**
   * Told `true` when the queue reaches its high-water mark (60 % of `maxQueueMessages`),
   * well before it drops anything, and `false` once it is back at the low-water mark
   * (30 %): the producer stops and resumes reading its sockets.
   */
  onFlowChange?: (paused: boolean) => void;
  clientId?: string;
  /**
   * Kafka counts as unreachable when messages have waited this long without a single
   * acknowledgement, even if a connection looks up (a broker shutting down or without
   * partition leaders still accepts connections). Default 10 s.
   */
  stallMs?: number;
}

type Pressure = 'normal' | 'backlogged' | 'full';

interface TopicMetrics {
  out: Tally;
  ack: Histogram.Internal<'topic'>;
}

/**
 * node-rdkafka hands JavaScript at most this many delivery reports per event-loop turn;
 * a turn that produces more lets unreported (often already acknowledged) messages pile up.
 */
export const DELIVERY_REPORTS_PER_TURN = 100;

const HIGH_WATER = 0.6;
const LOW_WATER = 0.3;

/**
 * Kafka through node-rdkafka's idempotent producer: acks=all, at most 5 requests in
 * flight, so each partition keeps the order messages were sent in, without duplicates
 * on retry. Compressed (lz4 by default) batches gathered for `lingerMs`: fewer, larger
 * batches cost less CPU per message in the producer, Kafka and the aggregator. Keys are
 * hashed with murmur2 like the Java and KafkaJS clients. While Kafka is unreachable, librdkafka keeps
 * retrying (no message timeout) and messages wait in its queue up to
 * `maxQueueMessages`; beyond that, `send` refuses and the message is counted as dropped.
 */
export class KafkaSink {
  private inFlight = 0;
  private kafkaReachable = true;
  private connectionsUp = true;
  /** Last acknowledgement, or when the queue last became non-empty. */
  private lastProgressAt = Date.now();
  private pressure: Pressure = 'normal';
  /** A back-pressure line was written, and no "cleared" since. */
  private backlogReported = false;
  private pausedFlow = false;
  private readonly highWater: number;
  private readonly lowWater: number;
  private readonly roomWaiters: { count: number; wake: () => void }[] = [];
  private readonly failureLog: RateLimitedLog;
  private readonly clientLog: RateLimitedLog;
  private readonly topicMetrics = new Map<string, TopicMetrics>();
  /** Keys as bytes, one per symbol: node-rdkafka copies a Buffer key without converting a string. */
  private readonly keys = new Map<string, Buffer>();
  /** Frames received in the same millisecond share one headers list (produce copies it). */
  private lastHeaders: Kafka.MessageHeader[] = [];
  private lastHeadersAt = -1;

  private constructor(
    private readonly producer: Kafka.Producer,
    private readonly options: KafkaSinkOptions,
  ) {
    this.highWater = Math.max(1, Math.floor(options.maxQueueMessages * HIGH_WATER));
    this.lowWater = Math.floor(options.maxQueueMessages * LOW_WATER);
    this.failureLog = new RateLimitedLog(options.logger, 10_000);
    this.clientLog = new RateLimitedLog(options.logger, 30_000);
    producer.on('delivery-report', (error, report) => this.onDelivery(error, report));
    producer.on('event.error', (error) => {
      this.clientLog.warn(`kafka-${error.code}`, { code: error.code }, `Kafka: ${error.message}`);
      if (error.code === Kafka.CODES.ERRORS.ERR__ALL_BROKERS_DOWN) {
        this.connectionsUp = false;
        this.setReachable(false);
      }
    });
    producer.on('event.stats', (event: { message: string }) => this.onStats(event.message));
  }

  /** Connects (waiting up to `timeoutMs` for the brokers' metadata). */
  static async connect(options: KafkaSinkOptions, timeoutMs = 30_000): Promise<KafkaSink> {
    const producer = new Kafka.Producer(
      {
        'metadata.broker.list': options.brokers.join(','),
        'client.id': options.clientId ?? 'candleflow-producer',
        'enable.idempotence': true,
        'max.in.flight.requests.per.connection': 5,
        'compression.codec': options.compression ?? 'lz4',
        'linger.ms': options.lingerMs ?? 50,
        'batch.num.messages': 10_000,
        'batch.size': 1_000_000,
        // librdkafka's own bound sits above ours, so ours decides what is dropped.
        'queue.buffering.max.messages': options.maxQueueMessages + 10_000,
        'reconnect.backoff.max.ms': 2_000,
        'statistics.interval.ms': 1_000,
        'log.connection.close': false,
        dr_cb: true,
      },
      {
        acks: -1,
        partitioner: 'murmur2_random',
        // 0 = retry until Kafka is back; the queue bound, not a timeout, limits what waits.
        'message.timeout.ms': 0,
      },
    );
    await new Promise<void>((resolve, reject) => {
      producer.connect({ timeout: timeoutMs }, (error) => (error ? reject(new Error(error.message)) : resolve()));
    });
    producer.setPollInterval(10);
    return new KafkaSink(producer, options);
  }

  /** Hands a message to Kafka; false when it was dropped (queue full), which is counted and logged here. */
  send(message: OutgoingMessage): boolean {
    if (this.inFlight >= this.options.maxQueueMessages) {
      this.drop(message, `queue full (${this.inFlight} messages waiting for Kafka)`);
      return false;
    }
    try {
      this.producer.produce(
        message.topic,
        null,
        typeof message.value === 'string' ? Buffer.from(message.value) : message.value,
        this.keyBytes(message.key),
        message.receivedAt,
        message,
        this.headersFor(message),
      );
    } catch (error) {
      this.drop(message, (error as LibrdKafkaError).message);
      return false;
    }
    if (this.inFlight === 0) this.lastProgressAt = Date.now();
    this.inFlight++;
    this.updatePressure();
    if (!this.pausedFlow && this.inFlight >= this.highWater) {
      this.pausedFlow = true;
      this.options.onFlowChange?.(true);
    }
    return true;
  }

  /** Messages handed over and not yet acknowledged or failed. */
  get queued(): number {
    return this.inFlight;
  }

  /** Whether the queue passed its high-water mark and has not yet drained to its low-water mark. */
  get flowPaused(): boolean {
    return this.pausedFlow;
  }

  /** Whether a broker connection is up (librdkafka's statistics) and Kafka acknowledges what waits. */
  get reachable(): boolean {
    return this.kafkaReachable;
  }

  /** Resolves once `count` more messages fit below the high-water mark. */
  waitForRoom(count = 0): Promise<void> {
    // More than half the mark at once could never fit while the streams add theirs.
    const needed = Math.min(count, Math.floor(this.highWater / 2));
    if (this.hasRoom(needed)) return Promise.resolve();
    return new Promise((resolve) => this.roomWaiters.push({ count: needed, wake: resolve }));
  }

  /** Waits up to `timeoutMs` for outstanding messages, then disconnects. Returns how many were left unacknowledged. */
  async close(timeoutMs: number): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    await new Promise<void>((resolve) => this.producer.flush(timeoutMs, () => resolve()));
    // Delivery reports reach JavaScript on the next polls, after flush returns.
    while (this.inFlight > 0 && Date.now() < deadline) await sleep(10);
    const left = this.inFlight;
    await new Promise<void>((resolve) => this.producer.disconnect(() => resolve()));
    for (const waiter of this.roomWaiters.splice(0)) waiter.wake();
    return left;
  }

  private keyBytes(key: string): Buffer {
    let bytes = this.keys.get(key);
    if (bytes === undefined) {
      bytes = Buffer.from(key);
      this.keys.set(key, bytes);
    }
    return bytes;
  }

  private headersFor(message: OutgoingMessage): Kafka.MessageHeader[] {
    if (message.source !== undefined) {
      return [{ [RECEIVE_TIME_HEADER]: String(message.receivedAt) }, { [SOURCE_HEADER]: message.source }];
    }
    if (message.receivedAt !== this.lastHeadersAt) {
      this.lastHeadersAt = message.receivedAt;
      this.lastHeaders = [{ [RECEIVE_TIME_HEADER]: String(message.receivedAt) }];
    }
    return this.lastHeaders;
  }

  /** Bound once per topic; acknowledgements are tallied, not counted one by one. */
  private metricsFor(topic: string): TopicMetrics {
    let bound = this.topicMetrics.get(topic);
    if (bound === undefined) {
      const { messagesOut, receiveToAck } = this.options.metrics;
      bound = { out: messagesOut.tally(topic), ack: receiveToAck.labels(topic) };
      this.topicMetrics.set(topic, bound);
    }
    return bound;
  }

  private onDelivery(error: LibrdKafkaError | null | undefined, report: DeliveryReport): void {
    this.inFlight--;
    const message = report.opaque as OutgoingMessage;
    if (error) {
      this.options.metrics.deliveryFailures.inc({ topic: message.topic });
      this.failureLog.warn(
        `delivery-${error.code}`,
        { topic: message.topic, key: message.key, code: error.code },
        `Kafka did not take a message: ${error.message}`,
      );
      this.options.onDeliveryFailed?.(message, error.message);
    } else {
      const now = Date.now();
      this.lastProgressAt = now;
      this.connectionsUp = true;
      this.setReachable(true);
      const bound = this.metricsFor(message.topic);
      bound.out.inc();
      bound.ack.observe((now - message.receivedAt) / 1000);
    }
    this.updatePressure();
    if (this.pausedFlow && this.inFlight <= this.lowWater) {
      this.pausedFlow = false;
      this.options.onFlowChange?.(false);
    }
    if (this.roomWaiters.length > 0) this.wakeRoomWaiters();
  }

  private wakeRoomWaiters(): void {
    for (let i = 0; i < this.roomWaiters.length;) {
      const waiter = this.roomWaiters[i] as { count: number; wake: () => void };
      if (this.hasRoom(waiter.count)) {
        this.roomWaiters.splice(i, 1);
        waiter.wake();
      } else {
        i++;
      }
    }
  }

  private drop(message: OutgoingMessage, reason: string): void {
    this.options.metrics.dropped.inc({ topic: message.topic, reason: 'queue-full' });
    this.failureLog.warn(
      'dropped',
      { topic: message.topic, queued: this.inFlight, limit: this.options.maxQueueMessages },
      `dropping new messages for Kafka: ${reason}; trades are lost, depth symbols resync when there is room`,
    );
  }

  private hasRoom(count: number): boolean {
    return this.inFlight + count < this.highWater;
  }

  private updatePressure(): void {
    const limit = this.options.maxQueueMessages;
    const next: Pressure = this.inFlight >= limit ? 'full' : this.inFlight >= limit / 2 ? 'backlogged' : 'normal';
    if (next === this.pressure) return;
    const previous = this.pressure;
    this.pressure = next;
    const fields = { queued: this.inFlight, limit, kafkaReachable: this.kafkaReachable };
    if (next === 'full') {
      this.options.logger.error(fields, 'Kafka queue full: new messages are dropped until Kafka catches up');
      this.backlogReported = true;
    } else if (next === 'backlogged' && previous === 'normal') {
      // Reading pauses and resumes around this level, possibly many times a second.
      if (this.failureLog.warn('backlogged', fields, 'Kafka back-pressure: messages are piling up')) {
        this.backlogReported = true;
      }
    } else if (next === 'normal' && this.backlogReported) {
      this.backlogReported = false;
      this.options.logger.info(fields, 'Kafka back-pressure cleared');
    }
  }

  private onStats(json: string): void {
    try {
      const stats = JSON.parse(json) as { brokers?: Record<string, { nodeid?: number; state?: string }> };
      const brokers = Object.values(stats.brokers ?? {}).filter((b) => (b.nodeid ?? -1) >= 0);
      if (brokers.length > 0) this.connectionsUp = brokers.some((b) => b.state === 'UP');
    } catch {
      // A statistics blob we cannot read changes nothing; delivery reports still tell.
    }
    const stalled = this.inFlight > 0 && Date.now() - this.lastProgressAt >= (this.options.stallMs ?? 10_000);
    this.setReachable(this.connectionsUp && !stalled);
  }

  private setReachable(up: boolean): void {
    if (up === this.kafkaReachable) return;
    this.kafkaReachable = up;
    if (up) {
      this.options.logger.info({ queued: this.inFlight }, 'Kafka reachable again');
      return;
    }
    const why = this.connectionsUp
      ? `connected, but nothing acknowledged for ${Math.round((Date.now() - this.lastProgressAt) / 1000)} s`
      : 'no broker connection';
    this.options.logger.warn(
      { queued: this.inFlight },
      `Kafka unreachable (KAFKA_BROKERS=${this.options.brokers.join(',')}: ${why}); buffering up to ${this.options.maxQueueMessages} messages`,
    );
  }
}
