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
  fields: {
    sustained: boolean;
    openP99: number;
    finalP99: number;
    rss: number;
    engine: number;
    project?: number;
    falling?: boolean;
  },
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
      processedTrend: {
        mean: fields.sustained ? rate : rate / 2,
        bins: [],
        ceiling: fields.sustained ? rate : (rate / 2) * 1.05,
        endShareOfCeiling: fields.falling ? 0.7 : 0.97,
        slopePerS: 0,
      },
      processedSaturation: fields.sustained
        ? 'kept up'
        : fields.falling
          ? 'fell below its ceiling'
          : 'saturated steadily',
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
    catchUp: {
      project: catchUp(20_000, fields.project ?? 30_000),
      kafkaEngine: catchUp(60_000, fields.engine),
      kafkaEngineWindowsOnly: catchUp(80_000, 2 * fields.engine),
      naive: catchUp(100, 90),
    },
    windows: {
      project: 20,
      projectTrades: 1000,
      kafkaEngine: equal(20),
      kafkaEngineTrades: { project: 1000, kafkaEngine: 1000, equal: true },
      kafkaEngineWindowsOnly: equal(20),
      naive: { ...equal(3), naiveTrades: 150 },
    },
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
    producerSteps: [],
    failures: [],
  };
}

test('targets met', () => {
  const checks = checkTargets(
    run([
      step(10_000, {
        sustained: true,
        openP99: 900,
        finalP99: 400,
        rss: 1.4 * 2 ** 30,
        engine: 20_000,
        project: 160_000,
      }),
      step(50_000, {
        sustained: true,
        openP99: 3000,
        finalP99: 2000,
        rss: 1.9 * 2 ** 30,
        engine: 20_000,
        project: 150_000,
      }),
      step(100_000, {
        sustained: false,
        openP99: 5000,
        finalP99: 5000,
        rss: 2.4 * 2 ** 30,
        engine: 20_000,
        project: 150_000,
      }),
    ]),
  );
  assert.deepEqual(
    checks.map((c) => c.met),
    [true, true, true, true, true, true, true],
  );
  assert.equal(
    checks[1]?.detail,
    '100,000/s: saturated steadily, 50,000 msgs/s end to end (best 5 s 52,500, ending at 97% of it); ' +
      'a lower step carried 50,000 msgs/s',
  );
});

test('an end-to-end rate that falls below its ceiling at 100k input misses the overload target', () => {
  const checks = checkTargets(
    run([
      step(50_000, { sustained: true, openP99: 900, finalP99: 400, rss: 1, engine: 20_000 }),
      step(100_000, { sustained: false, falling: true, openP99: 900, finalP99: 400, rss: 1, engine: 20_000 }),
    ]),
  );
  assert.deepEqual(
    [checks[1]?.met, checks[1]?.detail],
    [
      false,
      '100,000/s: fell below its ceiling, 50,000 msgs/s end to end (best 5 s 52,500, ending at 70% of it); ' +
        'a lower step carried 50,000 msgs/s',
    ],
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
      [undefined, 'no step at 100,000 msgs/s or more'],
      [false, 'p99 2.87 s (1.87 s over)'],
      [false, 'p99 1.20 s (0.70 s over)'],
      [false, '2.50 GiB (sim + producer + aggregator + Kafka + ClickHouse)'],
      [false, 'lowest step: 30,000 (20% of the target)'],
      [false, 'behind at 10000/s: Kafka engine 500000 vs 30000 trades/CPU-s (the project at 6%); windows identical'],
    ],
  );
  const markdown = renderMarkdown(
    run([step(10_000, { sustained: false, openP99: 2870, finalP99: 1200, rss: 1, engine: 500_000 })]),
  );
  assert.match(markdown, /\| 10,000 \| 10 \| 10,000 \| 5,000 \| \*\*no\*\* \|/);
  assert.match(markdown, /10,000\/s: not sustained: the backlog grew/);
  // Per CPU: the project, the Kafka engine (ratio), its windows-only variant beside it, the naive consumer.
  assert.match(markdown, /\| 30,000 \| 500,000 \(x0\.060\) \| 1,000,000 \(x0\.030\) \| 90 \(x333\) \|/);
  assert.match(markdown, /\| 20\/20 equal; raw trades equal \| 20\/20 equal \| 3\/3 equal \|/);
});

test("the Kafka engine's raw trades differing from the project's fails the identical-windows target", () => {
  const differing = step(10_000, { sustained: true, openP99: 1200, finalP99: 800, rss: 1, engine: 20_000 });
  differing.windows.kafkaEngineTrades = { project: 1000, kafkaEngine: 998, equal: false };
  const [, , , , , , peers] = checkTargets(run([differing]));
  assert.deepEqual([peers?.met, peers?.detail], [false, 'ahead at every step; windows differ at 10000/s']);
  assert.match(renderMarkdown(run([differing])), /\*\*raw trades differ\*\* \(998 rows against 1,000\)/);
});

test('a producer-only run renders its own table and neither targets nor the project table', () => {
  const results = run([]);
  results.producerSteps.push({
    plan: { rate: 100_000, symbols: 400, durationS: 30 },
    warmupS: 10,
    loadAverage: 1.5,
    input: {
      simRate: 52_000,
      kafkaRate: 51_500,
      simTrades: 600_010,
      simDepth: 950_000,
      tradesInKafka: 600_000,
      depthInKafka: 900_000,
      producerDropped: 0,
      tradesDropped: 12,
      tradesUnrepairable: 0,
    },
    kafkaTrend: {
      mean: 51_500,
      bins: [52_000, 51_000, 51_500],
      ceiling: 52_000,
      endShareOfCeiling: 0.99,
      slopePerS: -5,
    },
    saturation: 'saturated steadily',
    processes: {
      producer: { cpuPercent: 97.4, maxRssBytes: 300 * 2 ** 20 },
      sim: { cpuPercent: 40, maxRssBytes: 1 },
      kafka: { cpuPercent: 30, maxRssBytes: 1 },
    },
    profiles: [
      {
        process: 'producer',
        file: 'p.cpuprofile',
        seconds: 30,
        byModule: [{ name: 'producer/src/kafka-sink.ts', selfPercent: 20 }],
        byFunction: [{ name: 'send producer/src/kafka-sink.ts', selfPercent: 12 }],
      },
    ],
    series: [],
    notes: [],
  });
  const markdown = renderMarkdown(results);
  assert.match(markdown, /### 100,000\/s, producer only: producer \(30 s, p\.cpuprofile\)/);
  assert.match(markdown, /\| `send producer\/src\/kafka-sink\.ts` \| 12 \|/);
  assert.match(
    markdown,
    /\| 100,000 \| 400 \| 52,000 \| 51,500 \| 52,000 \/ 99 % \/ -5 \| saturated steadily \| 12 \/ 0 \| 600,010 \/ 600,000 \| 950,000 \/ 900,000 \| 97 \| 300 \| 40 \/ 30 \| 1\.50 \|/,
  );
  assert.doesNotMatch(markdown, /## Targets|## The project, per step|## Peers/);
});

test('the Spark peer, when it ran: its target, its table and its notes', () => {
  const withSpark = step(10_000, { sustained: true, openP99: 1200, finalP99: 800, rss: 1, engine: 20_000 });
  withSpark.processes.aggregator = { cpuPercent: 40, maxRssBytes: 200 * 2 ** 20 };
  withSpark.catchUp.spark = {
    ...catchUp(8_000, 6_000),
    maxRssBytes: 900 * 2 ** 20,
    probeLatency: { finalAfterClose: dist(1300, 2000), finalFromTrade: dist(7600, 13_800) },
    detail: '1 micro-batch(es) with trades',
  };
  withSpark.windows.spark = { ...equal(20), compared: 21, missing: 1 };
  const checks = checkTargets(run([withSpark]));
  assert.equal(checks.length, 8);
  assert.deepEqual(
    [checks[7]?.met, checks[7]?.detail],
    [false, '10000/s: 30000 vs 6000 trades/CPU-s, aggregator 200 vs Spark 900 MiB, windows differ'],
  );
  const markdown = renderMarkdown(run([withSpark]));
  assert.match(
    markdown,
    /\| 10,000 \| 1,000 \| 20,000 \| 8,000 \(x2\.5\) \| 30,000 \| 6,000 \(x5\.0\) \| 200 \| 900 \| 1\.30 \/ 2\.00 \| 7\.60 \/ 13\.80 \| \*\*20\/21 equal\*\*, 1 missing, 0 differ, 0 extra \|/,
  );
  assert.match(markdown, /10,000\/s: Spark catch-up: 1 micro-batch\(es\) with trades/);
  // Without it, no Spark target and no Spark table.
  const without = step(10_000, { sustained: true, openP99: 1200, finalP99: 800, rss: 1, engine: 20_000 });
  assert.equal(checkTargets(run([without])).length, 7);
  assert.doesNotMatch(renderMarkdown(run([without])), /Spark/);
});
