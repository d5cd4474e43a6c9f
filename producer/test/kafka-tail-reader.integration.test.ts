import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Registry } from 'prom-client';
import { testKafkaBrokers, uniqueName, waitUntil } from '@candleflow/common/testing';
import { ensureTopics } from '../src/kafka-topics.js';
import { KafkaSink, type OutgoingMessage } from '../src/kafka-sink.js';
import { readTradeTail } from '../src/kafka-tail-reader.js';
import { createProducerMetrics } from '../src/metrics.js';
import { captureLogger, deleteTopics } from './support/harness.js';

const tradeMessage = (topic: string, symbol: string, id: number, rest = false): OutgoingMessage => ({
  topic,
  key: symbol,
  value: `{"e":"trade","E":1,"s":"${symbol}","t":${id},"p":"1.5","q":"2","T":1700000000000,"m":true,"M":true}`,
  receivedAt: Date.now(),
  tradeId: id,
  ...(rest ? { source: 'rest' as const } : {}),
});

test('the end of the trades topic, read backwards in chunks: last ids, open holes, absent symbols', async (t) => {
  const topic = uniqueName('tail');
  t.after(() => deleteTopics(testKafkaBrokers, [topic]));
  const { logger, lines } = captureLogger();
  await ensureTopics(
    { brokers: testKafkaBrokers, topics: [topic], partitions: 3, replicationFactor: 1 },
    { logger, backoff: { minMs: 100, maxMs: 1000 } },
  );
  const sink = await KafkaSink.connect({
    brokers: testKafkaBrokers,
    maxQueueMessages: 100_000,
    logger,
    metrics: createProducerMetrics(new Registry()),
  });
  t.after(() => sink.close(5000));
  const send = (symbol: string, from: number, to: number, rest = false): void => {
    for (let id = from; id <= to; id++) assert.ok(sink.send(tradeMessage(topic, symbol, id, rest)));
  };
  // BTCUSDT: a repair cut short (101..150 of 101..199 published, between streamed trades);
  // ETHUSDT: clean, far behind; a junk record; SOLUSDT never there.
  send('BTCUSDT', 1, 100);
  send('ETHUSDT', 1, 40);
  send('BTCUSDT', 200, 260);
  for (let i = 0; i < 5; i++) {
    send('BTCUSDT', 101 + i * 10, 110 + i * 10, true);
    send('BTCUSDT', 261 + i * 10, 270 + i * 10);
  }
  send('BTCUSDT', 311, 320);
  sink.send({ topic, key: 'BTCUSDT', value: 'not json', receivedAt: Date.now() });
  await waitUntil('everything acknowledged', () => sink.queued === 0);

  const tails = await readTradeTail({
    brokers: testKafkaBrokers,
    topic,
    symbols: ['BTCUSDT', 'ETHUSDT', 'SOLUSDT'],
    chunkSize: 25,
    maxPerPartition: 10_000,
    logger,
  });
  assert.deepEqual(Object.fromEntries(tails), {
    BTCUSDT: { kind: 'found', lastId: 320, holes: [{ from: 151, to: 199 }] },
    ETHUSDT: { kind: 'found', lastId: 40, holes: [] },
    SOLUSDT: { kind: 'absent' },
  });
  assert.ok(lines.some((l) => l.msg === `read the end of ${topic}: 2 of 3 symbols found`));

  // With a bound too small to reach back to the hole's start: what the window shows.
  const bounded = await readTradeTail({
    brokers: testKafkaBrokers,
    topic,
    symbols: ['BTCUSDT'],
    chunkSize: 100,
    maxPerPartition: 100,
    logger,
  });
  assert.deepEqual(bounded.get('BTCUSDT'), { kind: 'found', lastId: 320, holes: [] });
});

test('an empty topic: every symbol absent, nothing to wait for', async (t) => {
  const topic = uniqueName('tail');
  t.after(() => deleteTopics(testKafkaBrokers, [topic]));
  const { logger } = captureLogger();
  await ensureTopics(
    { brokers: testKafkaBrokers, topics: [topic], partitions: 2, replicationFactor: 1 },
    { logger, backoff: { minMs: 100, maxMs: 1000 } },
  );
  const tails = await readTradeTail({
    brokers: testKafkaBrokers,
    topic,
    symbols: ['BTCUSDT', 'ETHUSDT'],
    maxPerPartition: 1000,
    logger,
  });
  assert.deepEqual(Object.fromEntries(tails), { BTCUSDT: { kind: 'absent' }, ETHUSDT: { kind: 'absent' } });
});
