import type { Message, Producer } from 'kafkajs';
import { classifyKafkaError } from '@candleflow/common/error-classification';
import type { Logger } from '@candleflow/common/logger';
import { retry, type BackoffOptions } from '@candleflow/common/retry';
import { fitValue } from './dead-letters.js';
import type { AggregatorMetrics } from './metrics.js';
import type { DlqMessage } from './write-batch.js';

/** What is left of a value the broker refused whole: enough to recognise the message. */
const CUT_VALUE_BYTES = 1024;

export interface DlqPublisherOptions {
  topic: string;
  groupId: string;
  retry: BackoffOptions;
  logger: Logger;
  metrics: AggregatorMetrics;
  /**
   * Dead letters go to the broker in requests of at most this many bytes (a larger letter
   * alone): the broker refuses a request's records for a partition together when they pass
   * its max.message.bytes, and DLQ_MAX_VALUE_BYTES is chosen so that one letter fits.
   */
  maxRequestBytes: number;
  /** Aborts the retries when the aggregator stops. */
  signal: AbortSignal;
}

/** A consumer-group offset to commit with the dead letters: the next offset to read. */
export interface GroupOffset {
  topic: string;
  partition: number;
  offset: number;
  /** Committed with the offset (see commitMetadata). */
  metadata: string;
}

/**
 * Sends a batch's dead letters and commits its offsets in one Kafka transaction, so that a
 * crash anywhere leaves either both or neither: a message re-read after a crash is never
 * dead-lettered twice (for readers in read_committed mode, KafkaJS's default; the console
 * consumer needs `--isolation-level read_committed`). The offsets carry the position up to
 * which the partition was processed (commitMetadata): a message re-read below it because an
 * open window held the offset back is not dead-lettered again either.
 *
 * While the broker is away it retries (the partitions wait, as they wait for ClickHouse).
 * If the broker refuses the dead letters themselves (too large for the DLQ topic, say),
 * they are sent again cut to their first kilobyte, and if even that is refused they are
 * logged, counted and left out, so that no message can hold its partition back for ever.
 */
export function createDlqPublisher(
  producer: Producer,
  options: DlqPublisherOptions,
): (messages: DlqMessage[], offsets: GroupOffset[]) => Promise<void> {
  const { logger, metrics, signal } = options;

  const commitWith = (messages: DlqMessage[], offsets: GroupOffset[]): Promise<void> =>
    retry(
      async () => {
        const transaction = await producer.transaction();
        try {
          for (const part of inRequests(messages, options.maxRequestBytes)) {
            await transaction.send({ topic: options.topic, messages: part.map(kafkaMessage) });
          }
          if (offsets.length > 0) {
            await transaction.sendOffsets({ consumerGroupId: options.groupId, topics: byTopic(offsets) });
          }
          await transaction.commit();
        } catch (error) {
          if (transaction.isActive()) await transaction.abort().catch(() => undefined);
          throw error;
        }
      },
      {
        ...options.retry,
        signal,
        retryable: (error) => classifyKafkaError(error).kind !== 'data',
        onRetry: (error, _attempt, delayMs) =>
          logger.warn({ err: classifyKafkaError(error).summary, retryInMs: delayMs }, 'DLQ send failed; retrying'),
      },
    );
  const refusedForData = (error: unknown): boolean => !signal.aborted && classifyKafkaError(error).kind === 'data';

  return async (messages, offsets) => {
    try {
      await commitWith(messages, offsets);
      return;
    } catch (error) {
      if (!refusedForData(error)) throw error;
      logger.warn({ err: classifyKafkaError(error).summary }, 'the DLQ topic refused dead letters; sending them cut');
    }
    const cut = messages.map((message) => {
      const headers = { ...message.headers };
      return { ...message, headers, value: fitValue(message.value, CUT_VALUE_BYTES, headers) };
    });
    metrics.dlqTruncated.inc(cut.length);
    try {
      await commitWith(cut, offsets);
      return;
    } catch (error) {
      if (!refusedForData(error)) throw error;
      metrics.dlqDropped.inc(messages.length);
      for (const message of messages) {
        logger.error(
          {
            err: classifyKafkaError(error).summary,
            source: message.sourceTopic,
            headers: stringHeaders(message.headers),
          },
          'the DLQ topic refused a dead letter even cut down; left out',
        );
      }
    }
    await commitWith([], offsets);
  };
}

const letterBytes = (message: DlqMessage): number =>
  (message.value?.length ?? 0) +
  Object.entries(message.headers).reduce(
    (n, [name, value]) => n + Buffer.byteLength(name) + Buffer.byteLength(value),
    0,
  );

/** Consecutive runs of letters of at most `maxBytes` together, a larger letter alone; in order. */
export function inRequests(messages: DlqMessage[], maxBytes: number): DlqMessage[][] {
  const requests: DlqMessage[][] = [];
  let current: DlqMessage[] = [];
  let bytes = 0;
  for (const message of messages) {
    const size = letterBytes(message);
    if (current.length > 0 && bytes + size > maxBytes) {
      requests.push(current);
      current = [];
      bytes = 0;
    }
    current.push(message);
    bytes += size;
  }
  if (current.length > 0) requests.push(current);
  return requests;
}

function kafkaMessage(message: DlqMessage): Message {
  return { key: message.sourceTopic, value: message.value, headers: message.headers };
}

interface PartitionCommit {
  partition: number;
  offset: string;
  metadata: string;
}

function byTopic(offsets: GroupOffset[]): { topic: string; partitions: PartitionCommit[] }[] {
  const topics = new Map<string, PartitionCommit[]>();
  for (const { topic, partition, offset, metadata } of offsets) {
    let partitions = topics.get(topic);
    if (partitions === undefined) topics.set(topic, (partitions = []));
    partitions.push({ partition, offset: String(offset), metadata });
  }
  return [...topics].map(([topic, partitions]) => ({ topic, partitions }));
}

function stringHeaders(headers: Record<string, string | Buffer>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, v.toString().slice(0, 200)]));
}
