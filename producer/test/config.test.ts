import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ConfigError } from '@candleflow/common/env';
import { parseProducerConfig } from '../src/config.js';

describe('producer configuration', () => {
  test('defaults', () => {
    const config = parseProducerConfig({});
    assert.deepEqual(config.SYMBOLS, { kind: 'list', symbols: ['BTCUSDT', 'ETHUSDT', 'SOLUSDT'] });
    assert.equal(config.BINANCE_WS_URL, 'wss://stream.binance.com:9443');
    assert.equal(config.BINANCE_REST_URL, 'https://api.binance.com');
    assert.deepEqual(config.KAFKA_BROKERS, ['127.0.0.1:9092']);
    assert.equal(config.TOPIC_TRADES, 'binance.trades');
    assert.equal(config.TOPIC_DEPTH, 'binance.depth');
    assert.equal(config.PRODUCER_PORT, 9101);
    assert.equal(config.TOPIC_PARTITIONS, 6);
    assert.equal(config.MAX_STREAMS_PER_CONNECTION, 1024);
    assert.equal(config.STREAM_IDLE_TIMEOUT_MS, 30_000);
    assert.equal(config.MAX_QUEUE_MESSAGES, 100_000);
    assert.equal(config.KAFKA_LINGER_MS, 50);
    assert.equal(config.REST_WEIGHT_PER_MINUTE, 3000);
    assert.equal(config.SNAPSHOT_DEPTH, 1000);
    assert.equal(config.REPAIR_MAX_TRADES_PER_SYMBOL, 2_000_000);
    assert.equal(config.BACKFILL_MINUTES, 15);
    assert.equal(config.RESTART_SCAN_MAX_MESSAGES, 1_000_000);
  });

  test('REST_WEIGHT_PER_MINUTE: the former SNAPSHOT_WEIGHT_PER_MINUTE still counts when it is not set', () => {
    assert.equal(parseProducerConfig({ SNAPSHOT_WEIGHT_PER_MINUTE: '1200' }).REST_WEIGHT_PER_MINUTE, 1200);
    assert.equal(
      parseProducerConfig({ SNAPSHOT_WEIGHT_PER_MINUTE: '1200', REST_WEIGHT_PER_MINUTE: '4000' })
        .REST_WEIGHT_PER_MINUTE,
      4000,
    );
    assert.equal('SNAPSHOT_WEIGHT_PER_MINUTE' in parseProducerConfig({ SNAPSHOT_WEIGHT_PER_MINUTE: '1' }), false);
  });

  test('BACKFILL_MINUTES and REPAIR_MAX_TRADES_PER_SYMBOL may be 0 (no history, no repair)', () => {
    const config = parseProducerConfig({ BACKFILL_MINUTES: '0', REPAIR_MAX_TRADES_PER_SYMBOL: '0' });
    assert.equal(config.BACKFILL_MINUTES, 0);
    assert.equal(config.REPAIR_MAX_TRADES_PER_SYMBOL, 0);
  });

  test('SYMBOLS: a list is upper-cased and de-duplicated; top:N is understood', () => {
    assert.deepEqual(parseProducerConfig({ SYMBOLS: ' btcusdt, ETHUSDT,btcusdt ' }).SYMBOLS, {
      kind: 'list',
      symbols: ['BTCUSDT', 'ETHUSDT'],
    });
    assert.deepEqual(parseProducerConfig({ SYMBOLS: 'top:25' }).SYMBOLS, { kind: 'top', count: 25 });
  });

  const bad: [Record<string, string>, RegExp][] = [
    [{ SYMBOLS: 'BTCUSDT,,ETH-USDT' }, /^invalid configuration: SYMBOLS="BTCUSDT,,ETH-USDT": .*bad: "", "ETH-USDT"/],
    [{ SYMBOLS: 'top:0' }, /SYMBOLS="top:0": top:N needs 1 <= N <= 1000/],
    [{ BINANCE_WS_URL: 'http://example.com' }, /BINANCE_WS_URL="http:\/\/example.com"/],
    [{ BINANCE_REST_URL: 'not a url' }, /BINANCE_REST_URL="not a url"/],
    [{ KAFKA_BROKERS: 'localhost' }, /KAFKA_BROKERS="localhost"/],
    [{ PRODUCER_PORT: '70000' }, /PRODUCER_PORT="70000"/],
    [{ MAX_QUEUE_MESSAGES: '-1' }, /MAX_QUEUE_MESSAGES="-1"/],
    [{ KAFKA_LINGER_MS: '5000' }, /KAFKA_LINGER_MS="5000"/],
    [{ MAX_STREAMS_PER_CONNECTION: '2000' }, /MAX_STREAMS_PER_CONNECTION="2000"/],
    [{ STREAM_IDLE_TIMEOUT_MS: 'soon' }, /STREAM_IDLE_TIMEOUT_MS="soon"/],
    [{ SNAPSHOT_DEPTH: '300' }, /SNAPSHOT_DEPTH="300": expected one of 5, 10, 20, 50, 100, 500, 1000, 5000/],
    [{ REST_WEIGHT_PER_MINUTE: '0' }, /REST_WEIGHT_PER_MINUTE="0"/],
    [{ BACKFILL_MINUTES: '-5' }, /BACKFILL_MINUTES="-5"/],
    [{ RESTART_SCAN_MAX_MESSAGES: '0' }, /RESTART_SCAN_MAX_MESSAGES="0"/],
    [
      { RECONNECT_MIN_DELAY_MS: '5000', RECONNECT_MAX_DELAY_MS: '1000' },
      /RECONNECT_MAX_DELAY_MS="1000": must be >= RECONNECT_MIN_DELAY_MS/,
    ],
  ];
  for (const [env, message] of bad) {
    test(`rejects ${JSON.stringify(env)} with one line naming the variable`, () => {
      assert.throws(
        () => parseProducerConfig(env),
        (error: unknown) =>
          error instanceof ConfigError && message.test(error.message) && !error.message.includes('\n'),
      );
    });
  }
});
