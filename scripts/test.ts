/**
 * `npm test [-- --unit] [paths...]`: brings up Kafka and ClickHouse if they are not
 * running, runs every test file with Node's test runner, stops what it started, and
 * closes with `N passed, N failed, N skipped`.
 *
 * Test files are `<workspace>/test/**\/*.test.ts`; those named `*.integration.test.ts`
 * need the real servers, and `--unit` leaves them (and the servers) out.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { commonEnv, findProjectRoot, loadEnv } from '@candleflow/common/env';
import { localServices, servicesDown, servicesUp, type LocalService } from './local-services/index.js';

const root = findProjectRoot();
const args = process.argv.slice(2);
const unitOnly = args.includes('--unit');
const filters = args.filter((a) => !a.startsWith('--')).map((a) => path.resolve(a));
const log = (line: string): void => console.log(`test: ${line}`);

function findTestFiles(dir: string, out: string[] = []): string[] {
  for (const entry of readdirSync(dir)) {
    if (entry === 'node_modules' || entry.startsWith('.') || entry === 'dist') continue;
    const full = path.join(dir, entry);
    if (statSync(full).isDirectory()) findTestFiles(full, out);
    else if (entry.endsWith('.test.ts') && full.split(path.sep).includes('test')) out.push(full);
  }
  return out;
}

const files = findTestFiles(root)
  .filter((f) => filters.length === 0 || filters.some((p) => f === p || f.startsWith(p + path.sep)))
  .filter((f) => !unitOnly || !f.endsWith('.integration.test.ts'))
  .sort();
if (files.length === 0) {
  console.error('test: error: no test files match');
  process.exit(1);
}
const needsServers = files.some((f) => f.endsWith('.integration.test.ts'));

let started: LocalService[] = [];
let stopping = false;
async function stopStarted(): Promise<void> {
  if (stopping || started.length === 0) return;
  stopping = true;
  log('stopping the services this run started...');
  await servicesDown(started, log);
}
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    void stopStarted().finally(() => process.exit(130));
  });
}

let exitCode = 1;
try {
  const env = loadEnv({ KAFKA_BROKERS: commonEnv.KAFKA_BROKERS, CLICKHOUSE_URL: commonEnv.CLICKHOUSE_URL });
  if (needsServers) started = await servicesUp(localServices(root, env), log);

  const resultsDir = path.join(root, '.local', 'test-results');
  mkdirSync(resultsDir, { recursive: true });
  // One file per run: concurrent runs must not read each other's counts.
  const tapFile = path.join(resultsDir, `results-${process.pid}.tap`);
  log(`running ${files.length} test file(s)`);
  const child = spawn(
    process.execPath,
    [
      '--conditions=source',
      '--import',
      'tsx',
      '--test',
      `--test-concurrency=${process.env.TEST_CONCURRENCY ?? '2'}`,
      '--test-reporter=spec',
      '--test-reporter-destination=stdout',
      '--test-reporter=tap',
      `--test-reporter-destination=${tapFile}`,
      ...files,
    ],
    { stdio: 'inherit', cwd: root, env: { ...process.env, CANDLEFLOW_TEST: '1' } },
  );
  const code = await new Promise<number>((resolve) => child.on('exit', (c, signal) => resolve(c ?? (signal ? 1 : 0))));

  const tap = readFileSync(tapFile, 'utf8');
  rmSync(tapFile);
  const count = (name: string): number => Number(new RegExp(`^# ${name} (\\d+)$`, 'm').exec(tap)?.[1] ?? 0);
  const failed = count('fail') + count('cancelled');
  console.log(`\n${count('pass')} passed, ${failed} failed, ${count('skipped') + count('todo')} skipped`);
  exitCode = code === 0 && failed === 0 ? 0 : 1;
} catch (error) {
  console.error(`test: error: ${error instanceof Error ? error.message : String(error)}`);
} finally {
  await stopStarted();
}
process.exit(exitCode);
