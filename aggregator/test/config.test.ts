import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError } from '@candleflow/common/env';
import { parseAggregatorConfig } from '../src/config.js';

test('defaults match the design', () => {
  const config = parseAggregatorConfig({});
  assert.equal(config.GROUP_ID, 'candleflow-aggregator');
  assert.equal(config.WINDOW_SECONDS, 10);
  assert.equal(config.WINDOW_GRACE_MS, 2000);
  assert.equal(config.WINDOW_IDLE_MS, 3000);
  assert.equal(config.AGGREGATOR_PORT, 9102);
  assert.equal(config.TOPIC_TRADES, 'binance.trades');
  assert.equal(config.TOPIC_DEPTH, 'binance.depth');
  assert.equal(config.TOPIC_DLQ, 'binance.dlq');
  assert.equal(config.CLICKHOUSE_DB, 'market');
  assert.deepEqual(config.KAFKA_BROKERS, ['127.0.0.1:9092']);
});

test('values are read and coerced', () => {
  const config = parseAggregatorConfig({
    WINDOW_SECONDS: '60',
    WINDOW_GRACE_MS: '0',
    SINK_BATCH_ROWS: '100',
    AGGREGATOR_PORT: '0',
    KAFKA_BROKERS: 'a:1, b:2',
  });
  assert.equal(config.WINDOW_SECONDS, 60);
  assert.equal(config.WINDOW_GRACE_MS, 0);
  assert.equal(config.SINK_BATCH_ROWS, 100);
  assert.equal(config.AGGREGATOR_PORT, 0);
  assert.deepEqual(config.KAFKA_BROKERS, ['a:1', 'b:2']);
});

test('a bad value stops with a message naming the variable', () => {
  for (const [name, value] of [
    ['WINDOW_SECONDS', '0'],
    ['WINDOW_GRACE_MS', '-5'],
    ['WINDOW_IDLE_MS', 'soon'],
    ['SINK_MAX_PENDING_BATCHES', '1.5'],
    ['KAFKA_SESSION_TIMEOUT_MS', '1000'],
    ['AGGREGATOR_PORT', '70000'],
    ['CLICKHOUSE_DB', 'market; DROP'],
  ] as const) {
    assert.throws(
      () => parseAggregatorConfig({ [name]: value }),
      (error: unknown) => error instanceof ConfigError && error.message.includes(`${name}=${JSON.stringify(value)}`),
      name,
    );
  }
});
