import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { waitUntil } from '@candleflow/common/testing';
import { startAggregator, type Aggregator } from '../src/aggregator.js';
import { assertWindowsMatch, referenceWindows } from './support/reference-windows.js';
import {
  countFinal,
  createTestEnv,
  metricValue,
  produce,
  queryRows,
  syntheticTrades,
  tradeMessage,
  waitForFinalWindows,
  type TestEnv,
} from './support/harness.js';

let env: TestEnv;
const running = new Set<Aggregator>();

before(async () => {
  env = await createTestEnv('group', { WINDOW_IDLE_MS: '3000' }, 4);
});
after(async () => {
  await Promise.all([...running].map((a) => a.stop()));
  await env.close();
});

const partitionsOf = (aggregator: Aggregator): number => Number(aggregator.health().checks.partitions ?? 0);

test('two instances in one group, one stopped half-way: the same rows as one instance', async () => {
  const symbols = ['BTCUSDT', 'ETHUSDT', 'BNBUSDT', 'SOLUSDT', 'XRPUSDT', 'ADAUSDT'];
  const trades = syntheticTrades({ seed: 31, count: 4000, symbols });
  const messages = trades.map(tradeMessage);

  const first = await startAggregator(env.config);
  running.add(first);
  const second = await startAggregator(env.config);
  running.add(second);
  await waitUntil(
    'both instances own partitions',
    () => partitionsOf(first) > 0 && partitionsOf(second) > 0 && partitionsOf(first) + partitionsOf(second) === 8,
    { timeoutMs: 60_000, describe: () => `${partitionsOf(first)} + ${partitionsOf(second)}` },
  );

  await produce(env.producer, env.topics.trades, messages.slice(0, 2000));
  const openWindows = async (): Promise<number> => {
    const [row] = await queryRows<{ n: string }>(
      env,
      `SELECT count() AS n FROM ${env.db}.trade_windows FINAL WHERE is_final = 0`,
    );
    return Number(row?.n ?? 0);
  };
  await waitUntil(
    'the first half written, with windows still open',
    async () => (await countFinal(env, 'trades')) === 2000 && (await openWindows()) > 0,
    { timeoutMs: 60_000 },
  );
  for (const instance of [first, second]) {
    assert.ok(
      (await metricValue(instance.port, 'aggregator_messages_total', { topic: env.topics.trades })) > 0,
      'both instances did part of the work',
    );
  }

  await first.stop();
  running.delete(first);
  await produce(env.producer, env.topics.trades, messages.slice(2000));

  const expected = referenceWindows(trades, 10);
  const stored = await waitForFinalWindows(env, expected.length, 90_000);
  assertWindowsMatch(stored, expected);
  assert.equal(await countFinal(env, 'trades'), trades.length);
  assert.equal(partitionsOf(second), 8, 'the remaining instance took every partition');
});
