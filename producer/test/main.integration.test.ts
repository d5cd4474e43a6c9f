import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startSimulator } from '@candleflow/binance-sim/simulator';
import { testKafkaBrokers, uniqueName, waitUntil } from '@candleflow/common/testing';
import { freePort } from '@candleflow/common/free-port';
import { TopicReader, deleteTopics, runProducer } from './support/harness.js';

test('a bad variable stops the producer with one line naming it, and exit code 2', async () => {
  const run = runProducer({ SYMBOLS: 'BTCUSDT,ETH/USDT', KAFKA_BROKERS: testKafkaBrokers.join(',') });
  assert.equal(await run.exited, 2);
  assert.equal(run.out.stdout, '');
  assert.equal(
    run.out.stderr,
    'producer: invalid configuration: SYMBOLS="BTCUSDT,ETH/USDT": expected comma-separated symbols like BTCUSDT,ETHUSDT or top:N; bad: "ETH/USDT"\n',
  );
});

test(
  'npm run producer: healthy against the simulator, then SIGTERM flushes Kafka and exits 0',
  { timeout: 120_000 },
  async (t) => {
    const sim = await startSimulator({
      source: { kind: 'synthetic', symbols: ['BTCUSDT', 'ETHUSDT'], rate: 200, seed: 1 },
    });
    t.after(() => sim.close());
    const port = await freePort();
    const topics = { trades: uniqueName('trades'), depth: uniqueName('depth') };
    t.after(() => deleteTopics(testKafkaBrokers, [topics.trades, topics.depth]));
    const run = runProducer({
      SYMBOLS: 'top:2',
      BINANCE_WS_URL: sim.wsUrl,
      BINANCE_REST_URL: sim.restUrl,
      KAFKA_BROKERS: testKafkaBrokers.join(','),
      TOPIC_TRADES: topics.trades,
      TOPIC_DEPTH: topics.depth,
      PRODUCER_PORT: String(port),
    });
    t.after(() => {
      if (run.child.exitCode === null) run.child.kill('SIGKILL');
    });
    const health = await waitUntil(
      'the producer to report healthy',
      async () => {
        const response = await fetch(`http://127.0.0.1:${port}/health`).catch(() => undefined);
        return response?.status === 200 ? ((await response.json()) as { checks: Record<string, unknown> }) : undefined;
      },
      { timeoutMs: 60_000, describe: () => run.out.stdout.slice(-2000) + run.out.stderr },
    );
    assert.equal(health.checks.symbols, 2);
    await waitUntil('trades flowing', async () => {
      const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      const match = new RegExp(`producer_messages_out_total\\{topic="${topics.trades}"[^}]*\\} (\\d+)`).exec(metrics);
      return Number(match?.[1] ?? 0) > 50;
    });

    run.child.kill('SIGTERM');
    assert.equal(await run.exited, 0, run.out.stdout.slice(-2000) + run.out.stderr);
    const lines = run.out.stdout
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => JSON.parse(l) as { msg: string; unacknowledged?: number });
    assert.deepEqual(lines.at(-1), { ...lines.at(-1), msg: 'stopped', unacknowledged: 0 });
    assert.ok(lines.some((l) => l.msg === 'SYMBOLS=top:2 resolved to 2 symbols'));

    // Everything the producer counted as acknowledged is on the topic.
    const reader = await TopicReader.start(testKafkaBrokers, topics.trades);
    t.after(() => reader.stop());
    assert.ok((await reader.readAll()).length > 50);
  },
);
