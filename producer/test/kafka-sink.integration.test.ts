import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Partitioners } from 'kafkajs';
import { Registry } from 'prom-client';
import { RECEIVE_TIME_HEADER } from '@candleflow/common/binance-events';
import { testKafkaBrokers, uniqueName, waitUntil } from '@candleflow/common/testing';
import { ensureTopics } from '../src/kafka-topics.js';
import { KafkaSink } from '../src/kafka-sink.js';
import { createProducerMetrics } from '../src/metrics.js';
import { TopicReader, captureLogger, deleteTopics } from './support/harness.js';

const backoff = { minMs: 100, maxMs: 1000 };

async function counter(registry: Registry, name: string, labels: Record<string, string> = {}): Promise<number> {
  const metric = registry.getSingleMetric(name);
  if (metric === undefined) throw new Error(`no metric ${name}`);
  const { values } = await metric.get();
  return values
    .filter((v) => Object.entries(labels).every(([k, want]) => String(v.labels[k]) === want))
    .reduce((n, v) => n + v.value, 0);
}

test('topics are created with the partitions asked for, and creating them again is harmless', async (t) => {
  const topic = uniqueName('sink');
  t.after(() => deleteTopics(testKafkaBrokers, [topic]));
  const { logger, lines } = captureLogger();
  const spec = { brokers: testKafkaBrokers, topics: [topic], partitions: 4, replicationFactor: 1 };
  await ensureTopics(spec, { logger, backoff });
  await ensureTopics(spec, { logger, backoff });
  assert.equal(lines.filter((l) => l.msg === 'created topic' && l.topic === topic).length, 1);
  const reader = await TopicReader.start(testKafkaBrokers, topic);
  t.after(() => reader.stop());
  assert.equal(reader.partitions.length, 4);
});

test('the sink keeps order per key, sets key and receive-time header, and partitions like the Java client', async (t) => {
  const topic = uniqueName('sink');
  t.after(() => deleteTopics(testKafkaBrokers, [topic]));
  const { logger } = captureLogger();
  await ensureTopics(
    { brokers: testKafkaBrokers, topics: [topic], partitions: 6, replicationFactor: 1 },
    { logger, backoff },
  );
  const registry = new Registry();
  const sink = await KafkaSink.connect({
    brokers: testKafkaBrokers,
    maxQueueMessages: 10_000,
    logger,
    metrics: createProducerMetrics(registry),
  });
  t.after(() => sink.close(5000));
  const keys = ['BTCUSDT', 'ETHUSDT', 'SOLUSDT', 'XRPUSDT', 'DOGEUSDT'];
  const sent: { key: string; value: string; receivedAt: number }[] = [];
  for (let i = 0; i < 2000; i++) {
    const key = keys[i % keys.length] as string;
    const json = `{"n":${i},"s":"${key}"}`;
    // Every other value is a slice of a whole frame's bytes, as stream data is; receive times repeat.
    const frame = Buffer.from(`{"stream":"x","data":${json}}`);
    const value = i % 2 === 0 ? json : frame.subarray(frame.length - 1 - json.length, frame.length - 1);
    const receivedAt = 1_700_000_000_000 + Math.floor(i / 3);
    assert.equal(sink.send({ topic, key, value, receivedAt }), true);
    sent.push({ key, value: json, receivedAt });
  }
  await waitUntil('every message acknowledged', () => sink.queued === 0);
  assert.equal(await counter(registry, 'producer_messages_out_total', { topic }), 2000);

  const reader = await TopicReader.start(testKafkaBrokers, topic);
  t.after(() => reader.stop());
  const messages = await reader.readAll();
  assert.equal(messages.length, 2000);
  const javaPartition = Partitioners.DefaultPartitioner();
  const partitionMetadata = Array.from({ length: 6 }, (_, id) => ({
    partitionErrorCode: 0,
    partitionId: id,
    leader: 1,
    replicas: [1],
    isr: [1],
  }));
  for (const key of keys) {
    const got = messages.filter((m) => m.key === key);
    assert.deepEqual(
      got.map((m) => [m.value, m.headers[RECEIVE_TIME_HEADER]]),
      sent.filter((m) => m.key === key).map((m) => [m.value, String(m.receivedAt)]),
    );
    const partitions = new Set(got.map((m) => m.partition));
    assert.equal(partitions.size, 1);
    assert.equal([...partitions][0], javaPartition({ topic, partitionMetadata, message: { key, value: null } }));
  }
});

test('past MAX_QUEUE_MESSAGES new messages are dropped, counted and logged; the rest arrive', async (t) => {
  const topic = uniqueName('sink');
  t.after(() => deleteTopics(testKafkaBrokers, [topic]));
  const { logger, lines } = captureLogger();
  await ensureTopics(
    { brokers: testKafkaBrokers, topics: [topic], partitions: 1, replicationFactor: 1 },
    { logger, backoff },
  );
  const registry = new Registry();
  const sink = await KafkaSink.connect({
    brokers: testKafkaBrokers,
    maxQueueMessages: 5,
    logger,
    metrics: createProducerMetrics(registry),
  });
  t.after(() => sink.close(5000));
  // Acknowledgements arrive asynchronously, so within one tick the queue only grows.
  const accepted = Array.from({ length: 20 }, (_, i) =>
    sink.send({ topic, key: 'BTCUSDT', value: `{"n":${i}}`, receivedAt: Date.now() }),
  );
  assert.deepEqual(accepted, [...Array<boolean>(5).fill(true), ...Array<boolean>(15).fill(false)]);
  assert.equal(await counter(registry, 'producer_dropped_messages_total', { topic, reason: 'queue-full' }), 15);
  assert.ok(lines.some((l) => l.level === 50 && l.msg.startsWith('Kafka queue full')));
  assert.ok(lines.some((l) => l.level === 40 && l.msg.startsWith('dropping new messages for Kafka: queue full')));
  await waitUntil('the accepted messages acknowledged', () => sink.queued === 0);
  assert.ok(lines.some((l) => l.msg === 'Kafka back-pressure cleared'));
  assert.equal(sink.send({ topic, key: 'BTCUSDT', value: '{"n":20}', receivedAt: Date.now() }), true);
  await waitUntil('the last message acknowledged', () => sink.queued === 0);

  const reader = await TopicReader.start(testKafkaBrokers, topic);
  t.after(() => reader.stop());
  assert.deepEqual(
    (await reader.readAll()).map((m) => m.value),
    ['{"n":0}', '{"n":1}', '{"n":2}', '{"n":3}', '{"n":4}', '{"n":20}'],
  );
});
