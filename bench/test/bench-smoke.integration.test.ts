import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { findProjectRoot } from '@candleflow/common/env';
import { testClickhouseUrl, testKafkaBrokers } from '@candleflow/common/testing';
import { runProducerOnlyStep } from '../src/producer-only-step.js';
import { runStep } from '../src/step.js';

test(
  'one tiny bench step: the project, the Kafka engine and the naive consumer give the same windows and trades',
  { timeout: 120_000 },
  async () => {
    const logDir = mkdtempSync(path.join(tmpdir(), 'bench-smoke-'));
    const said: string[] = [];
    try {
      // 60 frames/s over 5 symbols: 50 depth diffs and 10 trades a second, few enough for the naive consumer to read all.
      const step = await runStep(
        { rate: 60, symbols: 5, durationS: 6 },
        {
          root: findProjectRoot(),
          brokers: testKafkaBrokers,
          clickhouseUrl: testClickhouseUrl,
          compression: 'lz4',
          seed: 5,
          windowSeconds: 10,
          graceMs: 2000,
          warmupS: 1,
          catchUpSeconds: 4,
          // Only the naive consumer runs after the live phase: the catch-up figures are not what this checks.
          catchUpAll: false,
          profile: [],
          serviceEnv: {},
          peers: { kafkaEngine: true, kafkaEngineWindowsOnly: false, naive: true },
          logDir,
          kafkaPid: undefined,
          clickhousePid: undefined,
          clickhouseErrorLog: undefined,
          say: (line) => said.push(line),
        },
        'smoke',
        'smoke',
      );
      const context = JSON.stringify({ notes: step.notes, said, input: step.input, windows: step.windows }, null, 1);
      assert.ok(step.input.tradesInKafka > 0, context);
      // Every trade on the topic is in exactly one of the project's final windows.
      assert.equal(step.windows.projectTrades, step.input.tradesInKafka, context);
      const engine = step.windows.kafkaEngine;
      assert.ok(engine, context);
      assert.equal(engine.compared, step.windows.project, context);
      assert.deepEqual(
        [engine.equal, engine.missing, engine.different, engine.extra],
        [engine.compared, 0, 0, 0],
        context,
      );
      // The Kafka engine also wrote every raw trade, row for row as the project did.
      assert.deepEqual(
        step.windows.kafkaEngineTrades,
        { project: step.input.tradesInKafka, kafkaEngine: step.input.tradesInKafka, equal: true },
        context,
      );
      const naive = step.windows.naive;
      assert.ok(naive && naive.compared > 0, context);
      assert.deepEqual([naive.equal, naive.missing, naive.different, naive.extra], [naive.compared, 0, 0, 0], context);
      // Every sampled trade became readable in an open or final row while the polls ran.
      assert.equal(step.latency.project.open.missing, 0, context);
      assert.ok(step.latency.project.open.count > 0, context);
    } finally {
      rmSync(logDir, { recursive: true, force: true });
    }
  },
);

test(
  'one tiny producer-only step: every trade the simulator sent is on Kafka once, nothing dropped',
  { timeout: 60_000 },
  async () => {
    const logDir = mkdtempSync(path.join(tmpdir(), 'bench-smoke-producer-'));
    const said: string[] = [];
    try {
      const step = await runProducerOnlyStep(
        { rate: 60, symbols: 5, durationS: 6 },
        {
          root: findProjectRoot(),
          brokers: testKafkaBrokers,
          compression: 'lz4',
          seed: 5,
          warmupS: 1,
          profile: [],
          serviceEnv: {},
          logDir,
          kafkaPid: undefined,
          say: (line) => said.push(line),
        },
        'smoke',
        'smoke',
      );
      const context = JSON.stringify({ notes: step.notes, said, input: step.input, series: step.series }, null, 1);
      assert.ok(step.input.simTrades > 0 && step.input.depthInKafka > 0, context);
      assert.equal(step.input.tradesInKafka, step.input.simTrades, context);
      assert.deepEqual([step.input.producerDropped, step.input.tradesUnrepairable], [0, 0], context);
      assert.ok((step.processes.producer?.maxRssBytes ?? 0) > 0, context);
      assert.deepEqual(step.notes, [], context);
    } finally {
      rmSync(logDir, { recursive: true, force: true });
    }
  },
);
