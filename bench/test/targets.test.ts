import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Distribution } from '../src/percentiles.js';
import type { CatchUpFigures, RunResults, StepResult } from '../src/results.js';
import { renderMarkdown } from '../src/report-markdown.js';
import { checkTargets } from '../src/targets.js';

const dist = (p50: number, p99: number): Distribution => ({ count: 100, missing: 0, p50, p99, max: p99 });
const catchUp = (rate: number, msgsPerCpuSecond: number): CatchUpFigures => ({
  status: 'ok',
  messages: rate * 10,
  seconds: 10,
  rate,
  cpuSeconds: (rate * 10) / msgsPerCpuSecond,
  msgsPerCpuSecond,
  cpuOf: 'test',
});
const equal = (n: number) => ({ compared: n, equal: n, missing: 0, extra: 0, different: 0, examples: [] });

function step(
  rate: number,
  fields: { sustained: boolean; openP99: number; finalP99: number; rss: number; engine: number },
): StepResult {
  return {
    plan: { rate, symbols: 10, durationS: 30 },
    warmupS: 5,
    loadAverage: 0.5,
    names: { tradesTopic: 't', depthTopic: 'd', database: 'db', group: 'g' },
    input: {
      simRate: rate,
      kafkaRate: rate,
      processedRate: fields.sustained ? rate : rate / 2,
      simFrames: rate * 30,
      tradesInKafka: 1000,
      depthInKafka: 100,
      sustained: fields.sustained,
      verdict: fields.sustained ? 'held' : 'the backlog grew',
      processedLag: { atStart: 0, atEnd: 0, max: 0, slopePerS: 0 },
      committedLag: { max: 0, atEnd: 0 },
      producerDropped: 0,
      tradesDropped: 0,
      tradesUnrepairable: 0,
      aggregatorPauses: 0,
      lateTrades: 0,
      deadLetters: 0,
      drainS: 3,
    },
    latency: {
      project: {
        open: dist(500, fields.openP99),
        finalAfterClose: dist(300, fields.finalP99),
        finalFromTrade: dist(7000, 9000),
      },
      kafkaEngine: null,
      sampledTrades: 100,
    },
    processes: { aggregator: { cpuPercent: 40, maxRssBytes: 1 } },
    stackRssBytes: fields.rss,
    liveEfficiency: {
      project: { messages: 1, cpuSeconds: 1, msgsPerCpuSecond: 1, cpuOf: '' },
      projectConsumerOnly: { messages: 1, cpuSeconds: 1, msgsPerCpuSecond: 1, cpuOf: '' },
      kafkaEngine: null,
    },
    catchUp: { project: catchUp(20_000, 30_000), kafkaEngine: catchUp(60_000, fields.engine), naive: catchUp(100, 90) },
    windows: { project: 20, projectTrades: 1000, kafkaEngine: equal(20), naive: { ...equal(3), naiveTrades: 150 } },
    liveKafkaEngine: { status: 'ok', consumed: 1000, drainS: 5 },
    profiles: [],
    series: [],
    notes: [],
  };
}

function run(steps: StepResult[]): RunResults {
  return {
    startedAt: '2026-01-01T00:00:00.000Z',
    finishedAt: null,
    machine: {
      cpus: 2,
      cpuModel: 'test',
      memoryBytes: 2 ** 33,
      loadAverage: [0.5, 0.5, 0.5],
      node: 'v20',
      clickhouse: '18.16.1',
      kafka: '3.9.1',
    },
    settings: {
      durationS: 30,
      warmupS: 5,
      catchUpSeconds: 10,
      compression: 'none',
      windowSeconds: 10,
      graceMs: 2000,
      peers: ['kafka-engine', 'naive'],
      seed: 1,
      serviceEnv: {},
      profile: [],
    },
    steps,
    failures: [],
  };
}

test('targets met', () => {
  const checks = checkTargets(
    run([
      step(10_000, { sustained: true, openP99: 1200, finalP99: 800, rss: 1.5 * 2 ** 30, engine: 20_000 }),
      step(50_000, { sustained: true, openP99: 3000, finalP99: 2000, rss: 1.9 * 2 ** 30, engine: 20_000 }),
    ]),
  );
  assert.deepEqual(
    checks.map((c) => c.met),
    [true, true, true, true, true],
  );
});

test('targets missed say by how much; a run without the steps says not measured', () => {
  const checks = checkTargets(
    run([step(10_000, { sustained: true, openP99: 2870, finalP99: 1200, rss: 2.5 * 2 ** 30, engine: 500_000 })]),
  );
  assert.deepEqual(
    checks.map((c) => [c.met, c.detail]),
    [
      [undefined, 'highest step held: 10,000 msgs/s; most processed in any step: 10,000 msgs/s (20% of the target)'],
      [false, 'p99 2.87 s (1.37 s over)'],
      [false, 'p99 1.20 s (0.20 s over)'],
      [false, '2.50 GiB (sim + producer + aggregator + Kafka + ClickHouse)'],
      [false, 'behind at 10000/s: Kafka engine 500000 vs 30000 trades/CPU-s (the project at 6%); windows identical'],
    ],
  );
  const markdown = renderMarkdown(
    run([step(10_000, { sustained: false, openP99: 2870, finalP99: 1200, rss: 1, engine: 500_000 })]),
  );
  assert.match(markdown, /\| 10,000 \| 10 \| 10,000 \| 5,000 \| \*\*no\*\* \|/);
  assert.match(markdown, /10,000\/s: not sustained: the backlog grew/);
  assert.match(markdown, /\| 30,000 \| 500,000 \(x0\.060\) \| 90 \(x333\) \|/);
});
