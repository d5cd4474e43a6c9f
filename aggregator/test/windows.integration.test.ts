import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { waitUntil, uniqueName } from '@candleflow/common/testing';
import { startAggregator, type Aggregator } from '../src/aggregator.js';
import { assertWindowsMatch, referenceWindows } from './support/reference-windows.js';
import {
  countFinal,
  createTestEnv,
  kafka,
  metricValue,
  produce,
  syntheticTrades,
  tradeEventJson,
  tradeMessage,
  waitForFinalWindows,
  type RawMessage,
  type TestEnv,
} from './support/harness.js';

let env: TestEnv;
let aggregator: Aggregator | undefined;

before(async () => {
  env = await createTestEnv('win');
});
after(async () => {
  await aggregator?.stop();
  await env.close();
});

test('synthetic trades over four symbols, with duplicates, late trades and bad messages on both topics', async () => {
  const symbols = ['BTCUSDT', 'ETHUSDT', 'BNBUSDT', 'SOLUSDT'];
  const trades = syntheticTrades({ seed: 11, count: 3000, symbols });
  // Three trades arrive 400 trades (16 s of trade time) late, after their windows closed.
  const lateIndexes = [700, 1400, 2100];
  const tradeMessages: RawMessage[] = [];
  trades.forEach((t, i) => {
    const delayed = trades[i - 400];
    if (delayed && lateIndexes.includes(i - 400)) tradeMessages.push(tradeMessage(delayed));
    if (!lateIndexes.includes(i)) tradeMessages.push(tradeMessage(t));
    // Re-delivered copies, a little later in the stream (as after a producer retry).
    if (i % 20 === 5) tradeMessages.push(tradeMessage(trades[i - 3] ?? t));
  });
  const first = trades[0];
  assert.ok(first);
  const badTrades: RawMessage[] = [
    { key: 'BTCUSDT', value: 'not json at all' },
    { key: 'BTCUSDT', value: JSON.stringify({ ...JSON.parse(tradeEventJson(first)), p: undefined }) },
    { key: 'BTCUSDT', value: JSON.stringify({ ...JSON.parse(tradeEventJson(first)), e: 'aggTrade' }) },
    { key: 'ETHUSDT', value: '' },
  ];
  badTrades.forEach((bad, i) => tradeMessages.splice(500 * (i + 1), 0, bad));
  const depthMessages: RawMessage[] = [
    {
      key: 'BTCUSDT',
      value: JSON.stringify({
        e: 'depthSnapshot',
        E: first.timeMs,
        s: 'BTCUSDT',
        lastUpdateId: 100,
        bids: [['64999.00000000', '1.00000000']],
        asks: [['65001.00000000', '2.00000000']],
      }),
    },
    { key: 'BTCUSDT', value: '{"e":"depthUpdate",' },
    {
      key: 'BTCUSDT',
      value: JSON.stringify({ e: 'depthUpdate', E: first.timeMs + 100, s: 'BTCUSDT', U: 101, b: [], a: [] }),
    },
    {
      key: 'BTCUSDT',
      value: JSON.stringify({
        e: 'depthUpdate',
        E: first.timeMs + 100,
        s: 'BTCUSDT',
        U: 101,
        u: 102,
        b: [['64999.00000000', '0.00000000']],
        a: [['65002.00000000', '1.50000000']],
      }),
    },
  ];

  aggregator = await startAggregator(env.config);
  await Promise.all([
    produce(env.producer, env.topics.trades, tradeMessages),
    produce(env.producer, env.topics.depth, depthMessages),
  ]);

  const expected = referenceWindows(trades, 10);
  assert.ok(expected.length > 40, `enough windows to mean something (${expected.length})`);
  const stored = await waitForFinalWindows(env, expected.length);
  assertWindowsMatch(stored, expected);
  assert.equal(await countFinal(env, 'trades'), trades.length, 'one trades row per distinct trade');
  assert.equal(await countFinal(env, 'orderbook_snapshots'), 2);
  assert.equal(await countFinal(env, 'orderbook_updates'), 2);

  // Dead letters: each bad message once, keyed by its source topic, with a reason.
  const dlq: { key: string; value: string; reason: string }[] = [];
  const reader = kafka.consumer({ groupId: uniqueName('win_dlq_reader') });
  await reader.connect();
  await reader.subscribe({ topic: env.topics.dlq, fromBeginning: true });
  await reader.run({
    eachMessage: async ({ message }) => {
      dlq.push({
        key: String(message.key),
        value: message.value?.toString() ?? '',
        reason: String(message.headers?.dlq_reason ?? ''),
      });
    },
  });
  await waitUntil('6 dead letters', () => dlq.length >= 6, { describe: () => JSON.stringify(dlq) });
  await reader.disconnect();
  assert.deepEqual(
    dlq.map((d) => [d.key, d.value]).sort(),
    [
      ...badTrades.map((b) => [env.topics.trades, b.value]),
      ...[depthMessages[1], depthMessages[2]].map((b) => [env.topics.depth, b?.value ?? '']),
    ].sort(),
  );
  assert.ok(
    dlq.every((d) => d.reason.length > 0),
    'every dead letter says why',
  );
  assert.ok(dlq.some((d) => d.reason.startsWith('not_json: not JSON')));
  assert.ok(dlq.some((d) => /^schema: not a trade event: p: /.test(d.reason)));

  const port = aggregator.port;
  assert.equal(await metricValue(port, 'aggregator_dlq_messages_total'), 6);
  assert.equal(await metricValue(port, 'aggregator_dlq_messages_total', { topic: env.topics.depth }), 2);
  assert.equal(await metricValue(port, 'aggregator_duplicate_trades_total'), 150);
  assert.equal(await metricValue(port, 'aggregator_late_trades_total'), 3);
  assert.ok((await metricValue(port, 'aggregator_windows_recomputed_total')) >= 3);
  assert.ok((await metricValue(port, 'aggregator_windows_emitted_total', { state: 'final' })) >= expected.length);
  assert.ok((await metricValue(port, 'aggregator_windows_emitted_total', { state: 'open' })) > 0);
  assert.equal(
    await metricValue(port, 'aggregator_rows_inserted_total', { table: 'trades' }),
    tradeMessages.length - 4,
  );
  const health = (await (await fetch(`http://127.0.0.1:${port}/health`)).json()) as { ok: boolean };
  assert.equal(health.ok, true);

  // Everything is final and durable, so a clean stop commits every partition to its end
  // (partitions that never had a message have nothing to commit: -1).
  await aggregator.stop();
  aggregator = undefined;
  for (const topic of [env.topics.trades, env.topics.depth]) {
    const ends = await env.admin.fetchTopicOffsets(topic);
    const [committed] = await env.admin.fetchOffsets({ groupId: env.config.GROUP_ID, topics: [topic] });
    assert.deepEqual(
      committed?.partitions.map((p) => [p.partition, p.offset]).sort(),
      ends.map((p) => [p.partition, p.high === '0' ? '-1' : p.high]).sort(),
      `${topic} committed to the end`,
    );
  }
});
