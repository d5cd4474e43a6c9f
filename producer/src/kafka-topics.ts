import Kafka from 'node-rdkafka';
import type { Logger } from '@candleflow/common/logger';
import { retry, type BackoffOptions } from '@candleflow/common/retry';

export interface TopicSpec {
  brokers: string[];
  topics: string[];
  partitions: number;
  replicationFactor: number;
}

/**
 * Creates the topics that do not exist yet (existing ones are left as they are). Waits
 * for Kafka while it is unreachable, logging one line per series of failures, until
 * `signal` aborts.
 */
export async function ensureTopics(
  spec: TopicSpec,
  options: { logger: Logger; backoff: BackoffOptions; signal?: AbortSignal; requestTimeoutMs?: number },
): Promise<void> {
  const admin = Kafka.AdminClient.create({
    'metadata.broker.list': spec.brokers.join(','),
    'client.id': 'candleflow-producer-admin',
    'log.connection.close': false,
  });
  try {
    let lastReason: string | undefined;
    await retry(
      async () => {
        for (const topic of spec.topics) {
          const created = await createTopic(admin, topic, spec, options.requestTimeoutMs ?? 10_000);
          if (created) {
            options.logger.info(
              { topic, partitions: spec.partitions, replicationFactor: spec.replicationFactor },
              'created topic',
            );
          }
        }
      },
      {
        ...options.backoff,
        signal: options.signal,
        onRetry: (error, attempt, delay) => {
          const reason = error.message;
          const line = `cannot create topics on KAFKA_BROKERS=${spec.brokers.join(',')}: ${reason}; retrying in ${(delay / 1000).toFixed(1)}s`;
          if (reason !== lastReason) options.logger.warn({ attempt }, line);
          else options.logger.debug({ attempt }, line);
          lastReason = reason;
        },
      },
    );
  } finally {
    admin.disconnect();
  }
}

function createTopic(admin: Kafka.IAdminClient, topic: string, spec: TopicSpec, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve, reject) => {
    admin.createTopic(
      { topic, num_partitions: spec.partitions, replication_factor: spec.replicationFactor },
      timeoutMs,
      (error) => {
        if (!error) resolve(true);
        else if (error.code === Kafka.CODES.ERRORS.ERR_TOPIC_ALREADY_EXISTS) resolve(false);
        else reject(error);
      },
    );
  });
}
