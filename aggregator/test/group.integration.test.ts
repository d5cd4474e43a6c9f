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

const openWindows = async (): Promise<number> => {
  const [row] = await queryRows<{ n: string }>(
    env,
    `SELECT count() AS n FROM ${env.db}.trade_windows FINAL WHERE is_final = 0`,
  );
  return Number(row?.n ?? 0);
};

/** Waits until `count` trades are stored and some windows are still open. */
async function writtenWithOpenWindows(count: number): Promise<void> {
  await waitUntil(
    `${count} trades written, with windows still open`,
    async () => (await countFinal(env, 'trades').catch(() => 0)) === count && (await openWindows().catch(() => 0)) > 0,
    { timeoutMs: 60_000 },
  );
}

test('a second instance joins mid-stream and the first leaves: the same rows as one instance', async () => {
  const symbols = ['BTCUSDT', 'ETHUSDT', 'BNBUSDT', 'SOLUSDT', 'XRPUSDT', 'ADAUSDT'];
  const trades = syntheticTrades({ seed: 31, count: 4500, symbols });
  const messages = trades.map(tradeMessage);

  // One instance alone, windows open...
  const first = await startAggregator(env.config);
  running.add(first);
  await produce(env.producer, env.topics.trades, messages.slice(0, 1500));
  await writtenWithOpenWindows(1500);

  // ...a second joins: partitions with open windows move to it.
  const second = await startAggregator(env.config);
  running.add(second);
  await waitUntil(
    'both instances own partitions',
    () => partitionsOf(first) > 0 && partitionsOf(second) > 0 && partitionsOf(first) + partitionsOf(second) === 8,
    { timeoutMs: 60_000, describe: () => `${partitionsOf(first)} + ${partitionsOf(second)}` },
  );
  await produce(env.producer, env.topics.trades, messages.slice(1500, 3000));
  await writtenWithOpenWindows(3000);
  const handled = async (instance: Aggregator): Promise<number> =>
    metricValue(instance.port, 'aggregator_messages_total', { topic: env.topics.trades });
  assert.ok((await handled(second)) > 0, 'the second instance did part of the work');

  // ...and the first leaves, windows open: the second takes everything.
  await first.stop();
  running.delete(first);
  await produce(env.producer, env.topics.trades, messages.slice(3000));

  const expected = referenceWindows(trades, 10);
  const stored = await waitForFinalWindows(env, expected.length, 90_000);
  assertWindowsMatch(stored, expected);
  assert.equal(await countFinal(env, 'trades'), trades.length);
  assert.equal(partitionsOf(second), 8, 'the remaining instance took every partition');
});
