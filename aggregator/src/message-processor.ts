import type { IHeaders } from 'kafkajs';
import { DLQ_TRUNCATED_HEADER, messageDeadLetter } from './dead-letters.js';
import type { AggregatorMetrics } from './metrics.js';
import { snapshotRecords, UpdateIdSequence, updateRecords } from './orderbook-rows.js';
import { parseDepthMessage, parseTradeMessage, type DlqReason, type RecordEnvelope } from './topic-messages.js';
import type { TumblingWindows } from './tumbling-window.js';
import type { BatchAccumulator } from './write-batch.js';

/** A Kafka message as the processor needs it: its envelope (key, timestamp, headers), offset and value. */
export interface InputMessage extends RecordEnvelope {
  offset: number;
  value: Buffer | null;
  /** As KafkaJS gives them: `source` is read in place, the rest only for a message that goes to the DLQ. */
  headers: IHeaders | undefined;
  /**
   * Read again after an earlier owner of the partition wrote it (rows, dead letter) and
   * committed that (see commitMetadata): only the window engine still needs it.
   */
  replayed?: boolean;
}

export interface Topics {
  trades: string;
  depth: string;
}

/**
 * Turns messages of the trades and depth topics into rows: trades into `trades` rows and
 * the window engine, depth events into order-book rows with an update-id continuity check,
 * anything unreadable into a dead letter. No I/O; everything goes to the accumulator.
 */
export class MessageProcessor {
  private readonly sequences = new Map<number, UpdateIdSequence>();

  constructor(
    private readonly topics: Topics,
    private readonly engine: TumblingWindows,
    private readonly out: BatchAccumulator,
    private readonly metrics: AggregatorMetrics,
    /** Dead letters' values are cut to this size to fit the dead-letter topic. */
    private readonly maxDlqValueBytes: number,
  ) {}

  process(topic: string, partition: number, message: InputMessage, nowMs: number): void {
    if (topic === this.topics.trades) this.processTrade(partition, message, nowMs);
    else if (topic === this.topics.depth) this.processDepth(partition, message);
    else this.deadLetter(topic, partition, message, 'unexpected_topic', `unexpected topic ${topic}`);
  }

  /** Forgets a partition's state: it was revoked, or will be read again from its committed offset. */
  dropPartition(topic: string, partition: number): void {
    if (topic === this.topics.trades) this.engine.dropPartition(partition);
    else this.sequences.delete(partition);
  }

  /** The first offset of `partition` that an open window still needs, if any. */
  firstNeededOffset(topic: string, partition: number): number | undefined {
    return topic === this.topics.trades ? this.engine.firstNeededPosition(partition) : undefined;
  }

  private processTrade(partition: number, message: InputMessage, nowMs: number): void {
    const parsed = parseTradeMessage(message.value, message);
    if (!parsed.ok) {
      if (!message.replayed) this.deadLetter(this.topics.trades, partition, message, parsed.reason, parsed.detail);
      return;
    }
    const trade = parsed.event;
    if (!message.replayed) this.out.addRow('trades', trade);
    const outcome = this.engine.add(partition, message.offset, trade, nowMs);
    if (outcome === 'late') this.metrics.lateTrades.inc();
    else if (outcome === 'duplicate') this.metrics.duplicateTrades.inc();
  }

  private processDepth(partition: number, message: InputMessage): void {
    const parsed = parseDepthMessage(message.value, message);
    if (!parsed.ok) {
      if (!message.replayed) this.deadLetter(this.topics.depth, partition, message, parsed.reason, parsed.detail);
      return;
    }
    const event = parsed.event;
    let sequence = this.sequences.get(partition);
    if (!sequence) {
      sequence = new UpdateIdSequence();
      this.sequences.set(partition, sequence);
    }
    const continuity = sequence.observe(event);
    if (message.replayed) return;
    if (continuity === 'gap') this.metrics.depthGaps.inc({ symbol: event.s });
    else if (continuity === 'resync') this.metrics.depthResyncs.inc({ symbol: event.s });
    else if (continuity === 'stale') this.metrics.depthStale.inc({ symbol: event.s });
    if (event.e === 'depthSnapshot') this.out.add('orderbook_snapshots', snapshotRecords(event));
    else this.out.add('orderbook_updates', updateRecords(event));
  }

  private deadLetter(topic: string, partition: number, message: InputMessage, reason: DlqReason, detail: string): void {
    this.metrics.dlqMessages.inc({ topic, reason });
    const letter = messageDeadLetter(
      { topic, partition, offset: message.offset, value: message.value, headers: message.headers },
      reason,
      detail,
      this.maxDlqValueBytes,
    );
    if (letter.headers[DLQ_TRUNCATED_HEADER] !== undefined) this.metrics.dlqTruncated.inc();
    this.out.addDlq(letter);
  }
}
