import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { registerLz4Codec } from '@candleflow/common/kafkajs-lz4';
import { testKafkaBrokers, uniqueName, waitUntil } from '@candleflow/common/testing';
import { Kafka, logLevel } from 'kafkajs';
import Rdkafka from 'node-rdkafka';

registerLz4Codec();
const kafka = new Kafka({ clientId: 'lz4-test', brokers: testKafkaBrokers, logLevel: logLevel.NOTHING });
const consumer = kafka.consumer({ groupId: uniqueName('lz4') });
after(() => consumer.disconnect());

test('KafkaJS reads what librdkafka wrote with lz4 compression', async () => {
  const topic = uniqueName('lz4');
  const producer = new Rdkafka.HighLevelProducer({
    'metadata.broker.list': testKafkaBrokers.join(','),
    'compression.codec': 'lz4',
    'linger.ms': 20,
  });
  await new Promise<void>((resolve, reject) => {
    producer.once('ready', () => resolve());
    producer.once('event.error', reject);
    producer.connect();
  });
  const sent = Array.from({ length: 2000 }, (_, i) => JSON.stringify({ e: 'trade', t: i, p: '65000.10000000' }));
  await Promise.all(
    sent.map(
      (value) =>
        new Promise<void>((resolve, reject) =>
          producer.produce(topic, null, Buffer.from(value), 'BTCUSDT', Date.now(), (err) =>
            err ? reject(err) : resolve(),
          ),
        ),
    ),
  );
  await new Promise<void>((resolve) => producer.disconnect(() => resolve()));

  const received: string[] = [];
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({ eachMessage: async ({ message }) => void received.push(String(message.value)) });
  await waitUntil('all 2000 lz4 messages', () => received.length >= sent.length, {
    describe: () => `${received.length}`,
  });
  assert.deepEqual(received, sent);
});
