/**
 * `npm run bench`: the stack at stepped input rates, with ClickHouse's Kafka engine and a
 * naive consumer as peers on the same topics (`--producer-only`: simulator -> producer ->
 * Kafka alone); results in bench/results/<date>.json and .md. `npm run bench -- --micro`: micro-benchmarks of the hot paths. `npm run bench --
 * --web-load`: the web server under thousands of WebSocket clients.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ClickHouseLogLevel, createClient } from '@clickhouse/client';
import { commonEnv, findProjectRoot, loadEnv } from '@candleflow/common/env';
import { localServices, servicesDown, servicesUp, type LocalService } from '../scripts/local-services/index.js';
import { CliError, USAGE, parseBenchOptions, type MacroOptions } from './src/cli-options.js';
import { describeMachine } from './src/machine.js';
import { renderMarkdown } from './src/report-markdown.js';
import { runProducerOnlyStep } from './src/producer-only-step.js';
import type { RunResults } from './src/results.js';
import { sparkSkipReason } from './src/spark-peer.js';
import { runStep, type BenchContext } from './src/step.js';
import { checkTargets } from './src/targets.js';
import { runWebLoad } from './src/web-load.js';
import { WEB_LOAD_USAGE, parseWebLoadOptions } from './src/web-load-options.js';
import { runMicro } from './micro.js';

const root = findProjectRoot();
const say = (line: string): void => console.log(`bench: ${line}`);

function readPid(file: string): number | undefined {
  if (!existsSync(file)) return undefined;
  const pid = Number(readFileSync(file, 'utf8').trim());
  return Number.isInteger(pid) && pid > 0 && existsSync(`/proc/${pid}`) ? pid : undefined;
}

/** Writes through a .tmp file, so a reader never sees half a file. */
function writeAtomically(file: string, text: string): void {
  writeFileSync(`${file}.tmp`, text);
  renameSync(`${file}.tmp`, file);
}

async function runMacro(options: MacroOptions): Promise<void> {
  const env = loadEnv({ KAFKA_BROKERS: commonEnv.KAFKA_BROKERS, CLICKHOUSE_URL: commonEnv.CLICKHOUSE_URL });
  let started: LocalService[] = [];
  const stopStarted = async (): Promise<void> => {
    if (started.length > 0) await servicesDown(started, say);
    started = [];
  };
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      say(`${signal}: stopping`);
      void stopStarted().finally(() => process.exit(130));
    });
  }
  // The producer alone needs no ClickHouse (a running one is left as it is).
  const services = localServices(root, env).filter((s) => !options.producerOnly || s.name === 'kafka');
  started = await servicesUp(services, say);
  const stamp = new Date().toISOString().replace(/[:]/g, '-').replace(/\..+$/, '');
  const outDir = path.resolve(root, options.outDir);
  const logDir = path.join(outDir, `${stamp}-logs`);
  mkdirSync(logDir, { recursive: true });
  const jsonFile = path.join(outDir, `${stamp}.json`);
  const mdFile = path.join(outDir, `${stamp}.md`);

  // Only for its version: without ClickHouse (--producer-only) that is 'unknown', not an error log.
  const clickhouse = createClient({
    url: env.CLICKHOUSE_URL,
    ...(options.producerOnly ? { log: { level: ClickHouseLogLevel.OFF } } : {}),
  });
  const results: RunResults = {
    startedAt: new Date().toISOString(),
    finishedAt: null,
    machine: await describeMachine(root, clickhouse),
    settings: {
      durationS: options.steps[0]?.durationS ?? 0,
      warmupS: options.warmupS,
      catchUpSeconds: options.catchUpSeconds,
      compression: options.compression,
      windowSeconds: 10,
      graceMs: 2000,
      peers: options.peers,
      seed: options.seed,
      serviceEnv: options.serviceEnv,
      profile: options.profile,
    },
    steps: [],
    producerSteps: [],
    failures: [],
  };
  await clickhouse.close();
  const load = results.machine.loadAverage[0];
  say(
    `${options.steps.length} step(s) of ${results.settings.durationS} s on ${results.machine.cpus} CPUs, ` +
      `load average ${load}${load > 1 ? ' (other work is running: figures will be lower)' : ''}; logs in ${path.relative(root, logDir)}`,
  );

  // The Spark peer is installed on demand: without it, one line and the run goes on.
  const sparkMissing = options.peers.includes('spark') ? sparkSkipReason(root) : undefined;
  if (sparkMissing) say(`spark peer skipped: ${sparkMissing}`);
  const sparkPeer = options.peers.includes('spark') && !sparkMissing;
  const chDir = path.join(root, '.local', 'clickhouse');
  try {
    for (const [i, plan] of options.steps.entries()) {
      const label = `step ${i + 1}/${options.steps.length}`;
      say(
        `${label}: ${plan.rate} msgs/s over ${plan.symbols} symbols for ${plan.durationS} s` +
          (options.producerOnly ? ', producer only' : ''),
      );
      const ctx: BenchContext = {
        root,
        brokers: env.KAFKA_BROKERS,
        clickhouseUrl: env.CLICKHOUSE_URL,
        compression: options.compression,
        seed: options.seed,
        windowSeconds: results.settings.windowSeconds,
        graceMs: results.settings.graceMs,
        warmupS: options.warmupS,
        catchUpSeconds: options.catchUpSeconds,
        catchUpAll: true,
        profile: options.profile,
        serviceEnv: options.serviceEnv,
        peers: {
          kafkaEngine: options.peers.includes('kafka-engine'),
          kafkaEngineWindowsOnly: options.peers.includes('kafka-engine-windows-only'),
          naive: options.peers.includes('naive'),
          spark: sparkPeer,
        },
        logDir,
        kafkaPid: readPid(path.join(root, '.local', 'kafka', 'kafka.pid')),
        clickhousePid: readPid(path.join(chDir, 'clickhouse.pid')),
        clickhouseErrorLog: path.join(chDir, 'log', 'error.log'),
        say,
      };
      try {
        if (options.producerOnly) {
          const step = await runProducerOnlyStep(plan, ctx, label, `step${i + 1}-${plan.rate}-producer`);
          results.producerSteps.push(step);
          say(
            `${label}: input ${step.input.simRate}/s, into Kafka ${step.input.kafkaRate}/s ` +
              `(ceiling ${step.kafkaTrend.ceiling}/s, ${step.saturation}); trades dropped ` +
              `${step.input.tradesDropped}, lost ${step.input.tradesUnrepairable}; ` +
              `producer ${step.processes.producer?.cpuPercent ?? 0}% CPU`,
          );
        } else {
          const step = await runStep(plan, ctx, label, `step${i + 1}-${plan.rate}`);
          results.steps.push(step);
          say(
            `${label}: ${step.input.sustained ? 'sustained' : 'NOT sustained'} (${step.input.verdict}); ` +
              `open p99 ${(step.latency.project.open.p99 / 1000).toFixed(2)} s, ` +
              `final p99 ${(step.latency.project.finalAfterClose.p99 / 1000).toFixed(2)} s after close`,
          );
        }
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        results.failures.push({ plan, error: message });
        say(`${label} failed: ${message}`);
      }
      writeAtomically(jsonFile, `${JSON.stringify(results, null, 2)}\n`);
      writeAtomically(mdFile, renderMarkdown(results));
    }
  } finally {
    await stopStarted();
  }
  results.finishedAt = new Date().toISOString();
  writeAtomically(jsonFile, `${JSON.stringify(results, null, 2)}\n`);
  writeAtomically(mdFile, renderMarkdown(results));
  for (const check of results.steps.length > 0 ? checkTargets(results) : []) {
    say(
      `target: ${check.target}: ${check.met === undefined ? 'not measured' : check.met ? 'met' : 'MISSED'} (${check.detail})`,
    );
  }
  say(`results: ${path.relative(root, jsonFile)} and ${path.relative(root, mdFile)}`);
  if (results.failures.length > 0) process.exitCode = 1;
}

try {
  const argv = process.argv.slice(2);
  // The web load step has flags of its own.
  const options = argv.includes('--web-load') ? parseWebLoadOptions(argv) : parseBenchOptions(argv);
  if (options.kind === 'help') console.log(`${USAGE}\n${WEB_LOAD_USAGE}`);
  else if (options.kind === 'web-load') await runWebLoad(options, say);
  else if (options.kind === 'micro') await runMicro(options, say, os.availableParallelism());
  else await runMacro(options);
} catch (error) {
  if (error instanceof CliError) {
    console.error(`bench: ${error.message} (npm run bench -- --help)`);
    process.exit(2);
  }
  console.error(`bench: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  process.exit(1);
}
