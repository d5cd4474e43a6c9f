import { setTimeout as sleep } from 'node:timers/promises';
import Kafka, { type DeliveryReport, type LibrdKafkaError } from 'node-rdkafka';
import { RECEIVE_TIME_HEADER } from '@candleflow/common/binance-events';
import type { Logger } from '@candleflow/common/logger';
import type { ProducerMetrics } from './metrics.js';
import { RateLimitedLog } from './rate-limited-log.js';

/** One record for Kafka: `value` is the Binance JSON text as received (or the producer's snapshot event). */
export interface OutgoingMessage {
  topic: string;
  /** The symbol, so that each symbol's messages share a partition and keep their order. */
  key: string;
  value: string;
  /** When the frame (or snapshot) was received, in ms. */
  receivedAt: number;
}

export interface KafkaSinkOptions {
  brokers: string[];
  /** Messages waiting for Kafka's acknowledgement at most; past it, new messages are dropped and counted. */
  maxQueueMessages: number;
  /** Batch compression; lz4 unless a consumer cannot read it. */
  compression?: 'lz4' | 'gzip' | 'snappy' | 'zstd' | 'none';
  logger: Logger;
  metrics: Pick<ProducerMetrics, 'messagesOut' | 'deliveryFailures' | 'dropped' | 'receiveToAck'>;
  /** Called for every message Kafka reported as not delivered. */
  onDeliveryFailed?: (message: OutgoingMessage, reason: string) => void;
  clientId?: string;
  /**
   * Kafka counts as unreachable when messages have waited this long without a single
   * acknowledgement, even if a connection looks up (a broker shutting down or without
   * partition leaders still accepts connections). Default 10 s.
   */
  stallMs?: number;
}

type Pressure = 'normal' | 'backlogged' | 'full';

/**
 * Kafka through node-rdkafka's idempotent producer: acks=all, at most 5 requests in
 * flight, so each partition keeps the order messages were sent in, without duplicates
 * on retry. Compressed (lz4 by default) batches with a short linger for throughput; keys are hashed with murmur2
 * like the Java and KafkaJS clients. While Kafka is unreachable, librdkafka keeps
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
  private readonly roomWaiters: (() => void)[] = [];
  private readonly failureLog: RateLimitedLog;
  private readonly clientLog: RateLimitedLog;

  private constructor(
    private readonly producer: Kafka.Producer,
    private readonly options: KafkaSinkOptions,
  ) {
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
        'linger.ms': 20,
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
      this.producer.produce(message.topic, null, Buffer.from(message.value), message.key, message.receivedAt, message, [
        { [RECEIVE_TIME_HEADER]: String(message.receivedAt) },
      ]);
    } catch (error) {
      this.drop(message, (error as LibrdKafkaError).message);
      return false;
    }
    if (this.inFlight === 0) this.lastProgressAt = Date.now();
    this.inFlight++;
    this.updatePressure();
    return true;
  }

  /** Messages handed over and not yet acknowledged or failed. */
  get queued(): number {
    return this.inFlight;
  }

  /** Whether a broker connection is up (librdkafka's statistics) and Kafka acknowledges what waits. */
  get reachable(): boolean {
    return this.kafkaReachable;
  }

  /** Resolves once the queue is below 80 % of its bound. */
  waitForRoom(): Promise<void> {
    if (this.hasRoom()) return Promise.resolve();
    return new Promise((resolve) => this.roomWaiters.push(resolve));
  }

  /** Waits up to `timeoutMs` for outstanding messages, then disconnects. Returns how many were left unacknowledged. */
  async close(timeoutMs: number): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    await new Promise<void>((resolve) => this.producer.flush(timeoutMs, () => resolve()));
    // Delivery reports reach JavaScript on the next polls, after flush returns.
    while (this.inFlight > 0 && Date.now() < deadline) await sleep(10);
    const left = this.inFlight;
    await new Promise<void>((resolve) => this.producer.disconnect(() => resolve()));
    for (const wake of this.roomWaiters.splice(0)) wake();
    return left;
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
      this.options.metrics.messagesOut.inc({ topic: message.topic });
      this.options.metrics.receiveToAck.observe({ topic: message.topic }, (now - message.receivedAt) / 1000);
    }
    this.updatePressure();
    if (this.roomWaiters.length > 0 && this.hasRoom()) for (const wake of this.roomWaiters.splice(0)) wake();
  }

  private drop(message: OutgoingMessage, reason: string): void {
    this.options.metrics.dropped.inc({ topic: message.topic, reason: 'queue-full' });
    this.failureLog.warn(
      'dropped',
      { topic: message.topic, queued: this.inFlight, limit: this.options.maxQueueMessages },
      `dropping new messages for Kafka: ${reason}; trades are lost, depth symbols resync when there is room`,
    );
  }

  private hasRoom(): boolean {
    return this.inFlight < this.options.maxQueueMessages * 0.8;
  }

  private updatePressure(): void {
    const limit = this.options.maxQueueMessages;
    const next: Pressure = this.inFlight >= limit ? 'full' : this.inFlight >= limit / 2 ? 'backlogged' : 'normal';
    if (next === this.pressure) return;
    const previous = this.pressure;
    this.pressure = next;
    const fields = { queued: this.inFlight, limit, kafkaReachable: this.kafkaReachable };
    if (next === 'full')
      this.options.logger.error(fields, 'Kafka queue full: new messages are dropped until Kafka catches up');
    else if (next === 'backlogged' && previous === 'normal')
      this.options.logger.warn(fields, 'Kafka back-pressure: messages are piling up');
    else if (next === 'normal') this.options.logger.info(fields, 'Kafka back-pressure cleared');
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
