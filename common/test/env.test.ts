import assert from 'node:assert/strict';
import { test } from 'node:test';
import { z } from 'zod';
import { ConfigError, commonEnv, parseEnv, portSchema } from '../src/env.js';

test('defaults apply when variables are missing or empty', () => {
  const env = parseEnv(
    { KAFKA_BROKERS: commonEnv.KAFKA_BROKERS, CLICKHOUSE_DB: commonEnv.CLICKHOUSE_DB },
    { CLICKHOUSE_DB: '  ' },
  );
  assert.deepEqual(env, { KAFKA_BROKERS: ['127.0.0.1:9092'], CLICKHOUSE_DB: 'market' });
});

test('a broker list is split and trimmed', () => {
  const env = parseEnv({ KAFKA_BROKERS: commonEnv.KAFKA_BROKERS }, { KAFKA_BROKERS: 'a:9092, b.example:19092' });
  assert.deepEqual(env.KAFKA_BROKERS, ['a:9092', 'b.example:19092']);
});

test('a bad value names the variable, its value and what was expected', () => {
  assert.throws(
    () =>
      parseEnv(
        { WEB_PORT: portSchema, CLICKHOUSE_URL: commonEnv.CLICKHOUSE_URL },
        { WEB_PORT: '99999', CLICKHOUSE_URL: 'ftp://x' },
      ),
    (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      assert.match(error.message, /WEB_PORT="99999"/);
      assert.match(error.message, /CLICKHOUSE_URL="ftp:\/\/x"/);
      return true;
    },
  );
});

test('a broker without a port is rejected', () => {
  assert.throws(
    () => parseEnv({ KAFKA_BROKERS: commonEnv.KAFKA_BROKERS }, { KAFKA_BROKERS: 'localhost' }),
    /KAFKA_BROKERS="localhost": expected host:port/,
  );
});

test('service-specific schemas compose with the common ones', () => {
  const env = parseEnv({ ...commonEnv, GROUP_ID: z.string().default('aggregator') }, {});
  assert.equal(env.GROUP_ID, 'aggregator');
  assert.equal(env.TOPIC_TRADES, 'binance.trades');
  assert.equal(env.CLICKHOUSE_URL, 'http://127.0.0.1:8123');
});
