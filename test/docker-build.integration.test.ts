/**
 * Replays the Dockerfile without a Docker engine: copies the build context (minus
 * .dockerignore) to a clean directory, runs the build stage's RUN steps there (system
 * packages aside: this machine has them), assembles each runtime target from its COPY
 * --from=build steps, and starts each target's own command until its /health answers.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { findProjectRoot } from '@candleflow/common/env';
import { freePort } from '@candleflow/common/free-port';
import { testClickhouseUrl, testKafkaBrokers, uniqueName, waitUntil } from '@candleflow/common/testing';
import { createClient } from '@clickhouse/client';
import { parseDockerfile } from './dockerfile.js';

const root = findProjectRoot();
const dockerfile = parseDockerfile(readFileSync(path.join(root, 'Dockerfile'), 'utf8'));
const work = mkdtempSync(path.join(os.tmpdir(), 'candleflow-docker-'));
const buildDir = path.join(work, 'build');
const children: ChildProcess[] = [];
const database = uniqueName('docker');
const suffix = uniqueName('t');

/** The build context as Docker sends it: tracked and untracked files, less .dockerignore. */
function copyContext(): void {
  const ignore = readFileSync(path.join(root, '.dockerignore'), 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((pattern) => {
      const body = pattern
        .replace(/^\*\*\//, '')
        .replace(/[.+^${}()|[\]\\]/g, '\\$&')
        .replace(/\*/g, '[^/]*');
      return new RegExp(`(^|/)${body}(/|$)`);
    });
  const files = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', '-z'], { cwd: root })
    .toString()
    .split('\0')
    .filter((f) => f !== '' && !ignore.some((re) => re.test(f)));
  for (const file of files) {
    mkdirSync(path.dirname(path.join(buildDir, file)), { recursive: true });
    cpSync(path.join(root, file), path.join(buildDir, file));
  }
}

/** Assembles a runtime target from the build directory, as its COPY --from=build steps say. */
function assemble(target: string): string {
  const dir = path.join(work, target);
  const chain: string[] = [];
  for (let name: string | undefined = target; name;) {
    chain.unshift(name);
    const from: string = dockerfile.stage(name).from;
    name = dockerfile.stages.some((s) => s.name === from) ? from : undefined;
  }
  for (const name of chain) {
    for (const copy of dockerfile.stage(name).copies.filter((c) => c.from === 'build')) {
      for (const source of copy.sources) {
        const relative = path.relative('/app', source);
        const dest = copy.dest === './' ? path.join(dir, path.basename(relative)) : path.join(dir, copy.dest);
        cpSync(path.join(buildDir, relative), dest, { recursive: true, verbatimSymlinks: true });
      }
    }
  }
  return dir;
}

function start(target: string, env: Record<string, string>, args?: string[]): void {
  const dir = assemble(target);
  const [command, ...rest] = dockerfile.commandOf(target);
  assert.equal(command, 'node', `${target} starts with node`);
  const stageEnv = Object.assign({}, ...dockerfile.stages.map((s) => s.env)) as Record<string, string>;
  const child = spawn(process.execPath, args ? [rest[0] ?? '', ...args] : rest, {
    cwd: dir,
    env: { PATH: process.env.PATH ?? '', ...stageEnv, ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  children.push(child);
}

async function healthy(url: string): Promise<boolean> {
  try {
    return (await fetch(url, { signal: AbortSignal.timeout(2000) })).status === 200;
  } catch {
    return false;
  }
}

before(() => {
  copyContext();
  for (const step of dockerfile.stage('build').run) {
    if (step.startsWith('apt-get')) continue;
    execFileSync('sh', ['-c', step], { cwd: buildDir, stdio: ['ignore', 'ignore', 'inherit'], timeout: 600_000 });
  }
});

after(async () => {
  await Promise.all(
    children.map(
      (child) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null) return resolve();
          child.once('exit', () => resolve());
          child.kill('SIGTERM');
        }),
    ),
  );
  const client = createClient({ url: testClickhouseUrl });
  await client.command({ query: `DROP DATABASE IF EXISTS ${database}` });
  await client.close();
  rmSync(work, { recursive: true, force: true });
});

test('each image target, built by the Dockerfile steps, starts and answers /health', { timeout: 900_000 }, async () => {
  const [simPort, producerPort, aggregatorPort, webPort] = await Promise.all([
    freePort(),
    freePort(),
    freePort(),
    freePort(),
  ]);
  const common = {
    KAFKA_BROKERS: testKafkaBrokers.join(','),
    CLICKHOUSE_URL: testClickhouseUrl,
    CLICKHOUSE_DB: database,
    TOPIC_TRADES: `${suffix}.trades`,
    TOPIC_DEPTH: `${suffix}.depth`,
    TOPIC_DLQ: `${suffix}.dlq`,
    LOG_LEVEL: 'warn',
  };
  start('binance-sim', {}, ['--synthetic', '--host', '127.0.0.1', '--port', String(simPort)]);
  const targets: [string, string, Record<string, string>][] = [
    ['binance-sim', `http://127.0.0.1:${simPort}/api/v3/ping`, {}],
    [
      'producer',
      `http://127.0.0.1:${producerPort}/health`,
      {
        ...common,
        PRODUCER_PORT: String(producerPort),
        SYMBOLS: 'BTCUSDT,ETHUSDT',
        BINANCE_WS_URL: `ws://127.0.0.1:${simPort}`,
        BINANCE_REST_URL: `http://127.0.0.1:${simPort}`,
      },
    ],
    [
      'aggregator',
      `http://127.0.0.1:${aggregatorPort}/health`,
      { ...common, AGGREGATOR_PORT: String(aggregatorPort), GROUP_ID: suffix },
    ],
    ['web', `http://127.0.0.1:${webPort}/health`, { ...common, WEB_PORT: String(webPort) }],
  ];
  for (const [target, url, env] of targets) {
    if (target !== 'binance-sim') start(target, env);
    await waitUntil(`${target} built from the Dockerfile to answer ${url}`, () => healthy(url), { timeoutMs: 90_000 });
  }
  const page = await fetch(`http://127.0.0.1:${webPort}/`);
  assert.equal(page.status, 200);
  assert.match(await page.text(), /<div id="root">/);
});
