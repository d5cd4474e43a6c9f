import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Kafka, logLevel, type Consumer } from 'kafkajs';
import Rdkafka from 'node-rdkafka';
import { testKafkaBrokers, uniqueName, waitUntil } from '@candleflow/common/testing';

const kafka = new Kafka({ clientId: 'roundtrip-test', brokers: testKafkaBrokers, logLevel: logLevel.NOTHING });
const admin = kafka.admin();
const consumers: Consumer[] = [];

before(() => admin.connect());
after(async () => {
  await Promise.all(consumers.map((c) => c.disconnect()));
  await admin.disconnect();
});

/** Consumes `topic` from the beginning in a fresh group until `count` messages arrived. */
async function consumeAll(
  topic: string,
  count: number,
): Promise<{ key: string; value: string; headers: Record<string, string> }[]> {
  const consumer = kafka.consumer({ groupId: uniqueName('g') });
  consumers.push(consumer);
  const received: { key: string; value: string; headers: Record<string, string> }[] = [];
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ message }) => {
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(message.headers ?? {})) headers[k] = String(v);
      received.push({ key: String(message.key), value: String(message.value), headers });
    },
  });
  await waitUntil(`${count} messages on ${topic}`, () => received.length >= count, {
    describe: () => `${received.length} so far`,
  });
  return received;
}

test('KafkaJS: create a topic, produce, consume in a group, commit', async () => {
  const topic = uniqueName('roundtrip');
  const groupId = uniqueName('group');
  await admin.createTopics({ topics: [{ topic, numPartitions: 3 }], waitForLeaders: true });

  const producer = kafka.producer({ idempotent: true });
  await producer.connect();
  const sent = Array.from({ length: 30 }, (_, i) => ({ key: `k${i % 3}`, value: JSON.stringify({ i }) }));
  await producer.send({ topic, messages: sent });
  await producer.disconnect();

  const consumer = kafka.consumer({ groupId });
  consumers.push(consumer);
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const seen: number[] = [];
  await consumer.run({
    autoCommit: false,
    eachMessage: async ({ partition, message }) => {
      seen.push((JSON.parse(String(message.value)) as { i: number }).i);
      await consumer.commitOffsets([{ topic, partition, offset: (BigInt(message.offset) + 1n).toString() }]);
    },
  });
  await waitUntil('all 30 messages', () => seen.length === 30, { describe: () => `${seen.length} seen` });
  assert.deepEqual(
    [...seen].sort((a, b) => a - b),
    Array.from({ length: 30 }, (_, i) => i),
  );

  const committed = await waitUntil('committed offsets for every partition', async () => {
    const offsets = await admin.fetchOffsets({ groupId, topics: [topic] });
    const partitions = offsets[0]?.partitions ?? [];
    const total = partitions.reduce((n, p) => n + Math.max(0, Number(p.offset)), 0);
    return total === 30 ? partitions : undefined;
  });
  assert.equal(committed.length, 3);
});

test('node-rdkafka produces what KafkaJS consumes, with key and headers', async () => {
  const topic = uniqueName('rdkafka');
  await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });

  const producer = new Rdkafka.HighLevelProducer({
    'metadata.broker.list': testKafkaBrokers.join(','),
    'enable.idempotence': true,
    'compression.codec': 'lz4',
  });
  await new Promise<void>((resolve, reject) => {
    producer.once('ready', () => resolve());
    producer.once('event.error', reject);
    producer.connect();
  });
  for (let i = 0; i < 10; i++) {
    await new Promise<void>((resolve, reject) =>
      producer.produce(
        topic,
        null,
        Buffer.from(`{"n":${i}}`),
        'BTCUSDT',
        Date.now(),
        [{ receive_time_ms: '42' }],
        (err) => (err ? reject(err) : resolve()),
      ),
    );
  }
  await new Promise<void>((resolve) => producer.disconnect(() => resolve()));

  const received = await consumeAll(topic, 10);
  assert.deepEqual(
    received.map((m) => m.value),
    Array.from({ length: 10 }, (_, i) => `{"n":${i}}`),
  );
  assert.ok(received.every((m) => m.key === 'BTCUSDT' && m.headers.receive_time_ms === '42'));
});
