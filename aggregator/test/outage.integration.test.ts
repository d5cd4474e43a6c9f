import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { testClickhouseUrl, waitUntil } from '@candleflow/common/testing';
import { startAggregator, type Aggregator } from '../src/aggregator.js';
import { parseAggregatorConfig } from '../src/config.js';
import { assertWindowsMatch, referenceWindows } from './support/reference-windows.js';
import {
  countFinal,
  createTestEnv,
  metricValue,
  produce,
  syntheticTrades,
  tradeMessage,
  waitForFinalWindows,
  type TestEnv,
} from './support/harness.js';
import { TcpProxy } from '@candleflow/common/tcp-proxy';

let env: TestEnv;
let proxy: TcpProxy;
let aggregator: Aggregator | undefined;

before(async () => {
  env = await createTestEnv('outage', { SINK_MAX_PENDING_BATCHES: '2', SINK_RETRY_MAX_MS: '500' });
  const target = new URL(testClickhouseUrl);
  proxy = new TcpProxy(target.hostname, Number(target.port || 8123));
  await proxy.start();
});
after(async () => {
  await proxy.start().catch(() => undefined);
  await aggregator?.stop();
  await proxy.stop();
  await env.close();
});

test('ClickHouse unreachable for 10 s in mid-stream: reading pauses, and the rows are the same once it is back', async () => {
  const trades = syntheticTrades({ seed: 41, count: 3000, symbols: ['BTCUSDT', 'ETHUSDT', 'BNBUSDT'] });
  const messages = trades.map(tradeMessage);
  const config = parseAggregatorConfig({ ...env.env, CLICKHOUSE_URL: `http://127.0.0.1:${proxy.port}` });
  aggregator = await startAggregator(config);
  const running = aggregator;

  await produce(env.producer, env.topics.trades, messages.slice(0, 1000));
  await waitUntil('the first part written', async () => (await countFinal(env, 'trades')) === 1000, {
    timeoutMs: 60_000,
  });

  await proxy.stop();
  const outageEnds = Date.now() + 10_000;
  let sawPaused = false;
  let sawUnhealthy = false;
  let mostPending = 0;
  let sent = 1000;
  while (Date.now() < outageEnds) {
    if (sent < 2500) {
      await produce(env.producer, env.topics.trades, messages.slice(sent, sent + 250));
      sent += 250;
    }
    const { ok, checks } = running.health();
    sawPaused ||= checks.paused === true;
    sawUnhealthy ||= !ok && checks.clickhouse === 'unreachable';
    mostPending = Math.max(mostPending, Number(checks.pendingBatches));
    await sleep(200);
  }
  assert.ok(sawPaused, 'reading from Kafka paused while ClickHouse was away');
  assert.ok(sawUnhealthy, '/health reported ClickHouse unreachable');
  assert.ok(mostPending <= 2, `pending batches stayed bounded (${mostPending})`);
  assert.equal(await metricValue(running.port, 'aggregator_consumer_paused'), 1);
  assert.ok((await metricValue(running.port, 'aggregator_clickhouse_errors_total')) > 0);

  await proxy.start();
  await produce(env.producer, env.topics.trades, messages.slice(sent));
  const expected = referenceWindows(trades, 10);
  const stored = await waitForFinalWindows(env, expected.length, 90_000);
  assertWindowsMatch(stored, expected);
  assert.equal(await countFinal(env, 'trades'), trades.length);
  assert.equal(await metricValue(running.port, 'aggregator_consumer_paused'), 0, 'resumed by itself');
  assert.ok((await metricValue(running.port, 'aggregator_consumer_pauses_total')) >= 1);
  assert.equal(running.health().ok, true);
});
