import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { waitUntil } from '@candleflow/common/testing';
import { startAggregator, type Aggregator } from '../src/aggregator.js';
import { createTestEnv, produce, queryRows, tradeMessage, type TestEnv } from './support/harness.js';

/** Bounds are generous on purpose: this checks the mechanism, the benchmark measures it. */
const SLACK_MS = 3000;
const GRACE_MS = 500;
const IDLE_MS = 1500;

let env: TestEnv;
let aggregator: Aggregator | undefined;

before(async () => {
  env = await createTestEnv('final', {
    WINDOW_SECONDS: '1',
    WINDOW_GRACE_MS: String(GRACE_MS),
    WINDOW_IDLE_MS: String(IDLE_MS),
    WINDOW_EMIT_MS: '200',
    SINK_FLUSH_MS: '100',
  });
});
after(async () => {
  await aggregator?.stop();
  await env.close();
});

test('windows turn final about grace after their end while trades flow, and about the idle timeout after they stop', async () => {
  aggregator = await startAggregator(env.config);
  const finalSeenAt = new Map<string, number>();
  let polling = true;
  const poller = (async () => {
    while (polling) {
      const rows = await queryRows<{ symbol: string; s: number }>(
        env,
        `SELECT symbol, toUInt32(window_start) AS s FROM ${env.db}.trade_windows WHERE is_final = 1`,
      ).catch(() => []);
      const now = Date.now();
      for (const row of rows) {
        const key = `${row.symbol}@${row.s * 1000}`;
        if (!finalSeenAt.has(key)) finalSeenAt.set(key, now);
      }
      await sleep(50);
    }
  })();

  // Live trades, stamped with the wall clock, for six seconds.
  const ids = { BTCUSDT: 1, ETHUSDT: 1 };
  const started = Date.now();
  const windowsSeen = new Set<string>();
  while (Date.now() - started < 6000) {
    const batch = (['BTCUSDT', 'ETHUSDT'] as const).map((symbol) => {
      const timeMs = Date.now();
      windowsSeen.add(`${symbol}@${Math.floor(timeMs / 1000) * 1000}`);
      return tradeMessage({ symbol, id: ids[symbol]++, price: '100.5', qty: '0.1', timeMs, buyerIsMaker: false });
    });
    await produce(env.producer, env.topics.trades, batch);
    await sleep(50);
  }
  const stoppedAt = Date.now();

  try {
    await waitUntil('every window final', () => [...windowsSeen].every((k) => finalSeenAt.has(k)), {
      timeoutMs: IDLE_MS + SLACK_MS + 5000,
      describe: () => `${[...windowsSeen].filter((k) => !finalSeenAt.has(k)).join(', ')} not final`,
    });
  } finally {
    polling = false;
    await poller;
  }

  let whileFlowing = 0;
  for (const key of windowsSeen) {
    const end = Number(key.split('@')[1]) + 1000;
    const seen = finalSeenAt.get(key) ?? Number.POSITIVE_INFINITY;
    if (end + GRACE_MS + 200 < stoppedAt) {
      whileFlowing += 1;
      assert.ok(seen >= end, `${key} not final before its end`);
      assert.ok(seen - (end + GRACE_MS) <= SLACK_MS, `${key}: final ${seen - end} ms after its end`);
    } else {
      assert.ok(seen - stoppedAt <= IDLE_MS + SLACK_MS, `${key}: final ${seen - stoppedAt} ms after the input stopped`);
    }
  }
  assert.ok(whileFlowing >= 8, `windows closed while trades flowed: ${whileFlowing}`);
});
