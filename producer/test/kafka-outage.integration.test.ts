import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { startSimulator } from '@candleflow/binance-sim/simulator';
import { findProjectRoot } from '@candleflow/common/env';
import { freePort } from '@candleflow/common/free-port';
import { uniqueName, waitUntil } from '@candleflow/common/testing';
import { localKafka } from '../../scripts/local-services/kafka.js';
import { tail } from '../../scripts/local-services/processes.js';
import { assertTopicsAsSent, recordSimulator, startTestProducer } from './support/harness.js';

/** How the broker is taken away for 10 s and given back. */
interface Outage {
  begin(kafka: ReturnType<typeof localKafka>, pid: number): Promise<void>;
  end(kafka: ReturnType<typeof localKafka>, pid: number): Promise<void>;
}

/**
 * Runs the producer on the simulator into a private broker (the shared one on :9092 is
 * never touched), takes the broker away for 10 s while the WebSocket stays up, and checks
 * that every message then arrives exactly once.
 */
async function outageLosesNothing(t: TestContext, outage: Outage): Promise<void> {
  const brokers = [`127.0.0.1:${await freePort()}`];
  const stateDir = mkdtempSync(path.join(tmpdir(), 'candleflow-kafka-'));
  const kafka = localKafka(findProjectRoot(), brokers, { stateDir, controllerPort: await freePort() });
  // One hook, in this order: stopping needs the PID file in stateDir.
  t.after(async () => {
    await kafka.stop();
    rmSync(stateDir, { recursive: true, force: true });
  });
  const pid = await kafka.start();

  const symbols = ['BTCUSDT', 'ETHUSDT'];
  const total = 6000;
  const sim = await startSimulator({
    source: { kind: 'synthetic', symbols, rate: 150, seed: 3, maxMessages: total },
  });
  t.after(() => sim.close());
  const recording = recordSimulator(sim);
  const topics = { trades: uniqueName('trades'), depth: uniqueName('depth') };
  const { producer, metric, logs } = await startTestProducer({
    SYMBOLS: symbols.join(','),
    BINANCE_WS_URL: sim.wsUrl,
    BINANCE_REST_URL: sim.restUrl,
    KAFKA_BROKERS: brokers.join(','),
    TOPIC_TRADES: topics.trades,
    TOPIC_DEPTH: topics.depth,
    TOPIC_PARTITIONS: '2',
  });
  t.after(() => producer.close());
  const delivered = (): number => sim.stats().trades + sim.stats().depth;
  // On failure: how far the producer got, what it said about Kafka, and what the broker said.
  const describe = (): string => {
    const said = logs.filter((l) => typeof l.msg === 'string' && l.msg.includes('Kafka')).map((l) => l.msg);
    const serverLog = tail(path.join(stateDir, 'server.log'), 8);
    return [JSON.stringify(producer.health()), ...said.slice(-8), '-- broker:', serverLog].join('\n');
  };

  await waitUntil('500 frames sent and acknowledged', async () => {
    return delivered() >= 500 && (await metric('producer_messages_out_total')) >= 400;
  });
  const outageAt = Date.now();
  await outage.begin(kafka, pid);
  await waitUntil(
    '10 s of outage with messages waiting in the producer',
    () => Date.now() - outageAt >= 10_000 && producer.health().checks.kafka === false,
    { timeoutMs: 60_000, describe },
  );
  const waiting = producer.health().checks.queued as number;
  assert.ok(waiting > 500, `${waiting} messages waiting`);
  assert.equal(producer.health().ok, false);
  assert.equal(producer.health().checks.connections, '1/1', 'the WebSocket stream stays up');
  await outage.end(kafka, pid);

  await waitUntil('the simulator to send every frame', () => delivered() >= total, { timeoutMs: 120_000 });
  await waitUntil('Kafka to acknowledge everything', () => producer.health().checks.queued === 0, {
    timeoutMs: 120_000,
    describe,
  });
  await waitUntil('the producer to report Kafka healthy', () => producer.health().ok, { describe });

  const { tradeMessages } = await assertTopicsAsSent(t, brokers, topics, symbols, recording);
  assert.equal(await metric('producer_messages_in_total', { stream: 'trade' }), tradeMessages.length);
  assert.equal(await metric('producer_delivery_failures_total'), 0);
  assert.equal(await metric('producer_dropped_messages_total'), 0);
  assert.ok(logs.some((l) => typeof l.msg === 'string' && l.msg.startsWith('Kafka unreachable')));
  assert.ok(logs.some((l) => l.msg === 'Kafka reachable again'));
}

test('Kafka stopped for 10 s and started again: every message arrives once, none lost', { timeout: 300_000 }, (t) =>
  outageLosesNothing(t, {
    begin: (kafka) => kafka.stop(),
    end: async (kafka) => {
      await kafka.start();
    },
  }),
);

test(
  'Kafka frozen for 10 s, its connections open but silent: reported unreachable, then every message arrives once',
  { timeout: 300_000 },
  (t) =>
    outageLosesNothing(t, {
      // SIGSTOP: the kernel keeps accepting on the broker's sockets, but nothing answers.
      begin: async (_kafka, pid) => {
        process.kill(pid, 'SIGSTOP');
      },
      end: async (_kafka, pid) => {
        process.kill(pid, 'SIGCONT');
      },
    }),
);
