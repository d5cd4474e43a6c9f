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
  /** Aborts the retries when the aggregator stops. */
  signal: AbortSignal;
}

/** A consumer-group offset to commit with the dead letters: the next offset to read. */
export interface GroupOffset {
  topic: string;
  partition: number;
  offset: number;
}

/**
 * Sends a batch's dead letters and commits its offsets in one Kafka transaction, so that a
 * crash anywhere leaves either both or neither: a message re-read after a crash is never
 * dead-lettered twice (for readers in read_committed mode, KafkaJS's default; the console
 * consumer needs `--isolation-level read_committed`).
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
          if (messages.length > 0)
            await transaction.send({ topic: options.topic, messages: messages.map(kafkaMessage) });
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

function kafkaMessage(message: DlqMessage): Message {
  return { key: message.sourceTopic, value: message.value, headers: message.headers };
}

function byTopic(offsets: GroupOffset[]): { topic: string; partitions: { partition: number; offset: string }[] }[] {
  const topics = new Map<string, { partition: number; offset: string }[]>();
  for (const { topic, partition, offset } of offsets) {
    let partitions = topics.get(topic);
    if (partitions === undefined) topics.set(topic, (partitions = []));
    partitions.push({ partition, offset: String(offset) });
  }
  return [...topics].map(([topic, partitions]) => ({ topic, partitions }));
}

function stringHeaders(headers: Record<string, string | Buffer>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, v.toString().slice(0, 200)]));
}
