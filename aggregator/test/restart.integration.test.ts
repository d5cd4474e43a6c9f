import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { waitUntil } from '@candleflow/common/testing';
import { assertWindowsMatch, referenceWindows } from './support/reference-windows.js';
import {
  countFinal,
  createTestEnv,
  exited,
  produce,
  queryRows,
  spawnAggregator,
  syntheticTrades,
  tradeMessage,
  waitForFinalWindows,
  type TestEnv,
} from './support/harness.js';

let env: TestEnv;
const children: ReturnType<typeof spawnAggregator>[] = [];

before(async () => {
  // A long idle timeout keeps the last windows open until the kill.
  env = await createTestEnv('restart', { WINDOW_IDLE_MS: '4000' });
});
after(async () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await Promise.all(children.map((c) => exited(c)));
  await env.close();
});

function start(): ReturnType<typeof spawnAggregator> {
  const child = spawnAggregator(env.env);
  children.push(child);
  return child;
}

async function openWindowRows(): Promise<number> {
  const [row] = await queryRows<{ n: string }>(
    env,
    `SELECT count() AS n FROM ${env.db}.trade_windows FINAL WHERE is_final = 0`,
  );
  return Number(row?.n ?? 0);
}

test('kill -9 in mid-window and restart: the same rows, nothing missing, nothing twice', async () => {
  const symbols = ['BTCUSDT', 'ETHUSDT', 'BNBUSDT', 'SOLUSDT'];
  const trades = syntheticTrades({ seed: 23, count: 4000, symbols });
  const messages = trades.map(tradeMessage);
  const chunks = Array.from({ length: 8 }, (_, i) => messages.slice(i * 500, (i + 1) * 500));

  // First life: killed while windows are open and rows are being written.
  let child = start();
  for (const chunk of chunks.slice(0, 3)) await produce(env.producer, env.topics.trades, chunk);
  // The child creates the database; until then there is nothing to count.
  await waitUntil('open windows written', async () => (await openWindowRows().catch(() => 0)) > 0, {
    timeoutMs: 60_000,
    describe: () => child.output().slice(-2000),
  });
  await produce(env.producer, env.topics.trades, chunks[3] ?? []);
  child.kill('SIGKILL');
  assert.equal(await exited(child), null, 'killed, not exited');
  assert.ok((await openWindowRows()) > 0, 'windows were open at the kill');

  // Second life: killed again while catching up.
  await produce(env.producer, env.topics.trades, chunks[4] ?? []);
  child = start();
  await waitUntil('the second life writes', async () => (await countFinal(env, 'trades')) > 2000, {
    timeoutMs: 60_000,
    describe: () => child.output().slice(-2000),
  });
  await produce(env.producer, env.topics.trades, chunks[5] ?? []);
  child.kill('SIGKILL');
  await exited(child);

  // Third life: runs to the end. Some input is re-delivered by the producer, too.
  for (const chunk of chunks.slice(6)) await produce(env.producer, env.topics.trades, chunk);
  await produce(env.producer, env.topics.trades, messages.slice(3000, 3100));
  child = start();
  const expected = referenceWindows(trades, 10);
  const stored = await waitForFinalWindows(env, expected.length, 90_000).catch((error: unknown) => {
    throw new Error(`${String(error)}\n${child.output().slice(-3000)}`);
  });
  assertWindowsMatch(stored, expected);
  assert.equal(await countFinal(env, 'trades'), trades.length, 'no trade missing, none twice');

  child.kill('SIGTERM');
  assert.equal(await exited(child), 0, `clean exit on SIGTERM\n${child.output().slice(-2000)}`);
});
