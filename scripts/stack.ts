/**
 * `npm run stack [-- --offline] [-- --monitoring]`: the whole stack without Docker. Brings up
 * local Kafka and ClickHouse, then (offline: the simulator's synthetic market and) the
 * producer, aggregator and web, (monitoring: Debian's Prometheus scraping them), prints the
 * URLs, and on Ctrl-C stops everything it started.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { commonEnv, findProjectRoot, loadEnv, portSchema } from '@candleflow/common/env';
import { clickhouseUsersEnv, webUser } from './local-services/clickhouse.js';
import { ServiceError, localServices, servicesDown, servicesUp, type LocalService } from './local-services/index.js';
import { commandExists, isPortOpen } from './local-services/processes.js';
import { localPrometheusConfig, prometheusArgs } from './monitoring.js';

const root = findProjectRoot();
const offline = process.argv.includes('--offline');
const monitoring = process.argv.includes('--monitoring');
const say = (line: string): void => console.log(`stack: ${line}`);

const env = loadEnv({
  KAFKA_BROKERS: commonEnv.KAFKA_BROKERS,
  CLICKHOUSE_URL: commonEnv.CLICKHOUSE_URL,
  CLICKHOUSE_WEB_PASSWORD: clickhouseUsersEnv.CLICKHOUSE_WEB_PASSWORD,
  WEB_PORT: portSchema.default(8050),
  SIM_PORT: portSchema.default(9443),
  PRODUCER_PORT: portSchema.default(9101),
  AGGREGATOR_PORT: portSchema.default(9102),
  PROMETHEUS_PORT: portSchema.default(9090),
});

const colors: Record<string, string> = { sim: '35', producer: '36', aggregator: '33', web: '32', prometheus: '34' };
const levels: Record<number, string> = { 10: 'trace', 20: 'debug', 30: 'info', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };

/** One line per log record: time, service, level, message and the record's own fields. */
function formatLine(name: string, line: string): string {
  const tag = `\x1b[${colors[name] ?? '0'}m${name.padEnd(10)}\x1b[0m`;
  try {
    const record = JSON.parse(line) as Record<string, unknown>;
    const { time, level, msg, pid, hostname, name: logger, service, ...fields } = record;
    const at = typeof time === 'number' ? new Date(time).toISOString().slice(11, 19) : '';
    const extra = Object.keys(fields).length > 0 ? ` ${JSON.stringify(fields)}` : '';
    return `${at} ${tag} ${levels[Number(level)] ?? level} ${String(msg ?? '')}${extra}`;
  } catch {
    return `${new Date().toISOString().slice(11, 19)} ${tag} ${line}`;
  }
}

const children = new Map<string, ChildProcess>();
let started: LocalService[] = [];
let stopping = false;

/** A project service, run from source. */
function run(name: string, script: string, args: string[], extraEnv: Record<string, string>): void {
  runCommand(
    name,
    process.execPath,
    ['--conditions=source', '--import', 'tsx', path.join(root, script), ...args],
    extraEnv,
  );
}

function runCommand(name: string, command: string, args: string[], extraEnv: Record<string, string>): void {
  const child = spawn(command, args, {
    cwd: root,
    env: { ...process.env, ...extraEnv },
    stdio: ['ignore', 'pipe', 'pipe'],
    // Own process group: Ctrl-C reaches only this script, which stops each child once.
    detached: true,
  });
  children.set(name, child);
  for (const stream of [child.stdout, child.stderr]) {
    createInterface({ input: stream }).on('line', (line) => console.log(formatLine(name, line)));
  }
  child.on('exit', (code, signal) => {
    children.delete(name);
    if (!stopping) {
      say(`${name} exited (${signal ?? `code ${code}`}); stopping the stack`);
      void shutdown(1);
    }
  });
}

async function waitHealthy(name: string, url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (stopping) return;
    try {
      if ((await fetch(url, { signal: AbortSignal.timeout(2000) })).ok) return;
    } catch {
      // not up yet
    }
    await sleep(500);
  }
  throw new ServiceError(
    `${name} did not become healthy at ${url} within ${timeoutMs / 1000}s; see its log lines above`,
  );
}

/**
 * On the project's own ClickHouse the aggregator writes as `default` (no password: it
 * listens on loopback only) and the web reads as the read-only user, whatever `.env` sets
 * for Docker's ClickHouse. A server not managed here is used as CLICKHOUSE_USER says.
 */
async function clickhouseUsers(
  services: LocalService[],
): Promise<Record<'aggregator' | 'web', Record<string, string>>> {
  const clickhouse = services.find((s) => s.name === 'clickhouse');
  if ((await clickhouse?.state())?.kind === 'ours') {
    return {
      aggregator: { CLICKHOUSE_USER: 'default', CLICKHOUSE_PASSWORD: '' },
      web: { CLICKHOUSE_USER: webUser, CLICKHOUSE_PASSWORD: env.CLICKHOUSE_WEB_PASSWORD },
    };
  }
  say(`${env.CLICKHOUSE_URL} is not managed here: the aggregator and the web use CLICKHOUSE_USER`);
  return { aggregator: {}, web: {} };
}

/** Fails before anything starts when Prometheus cannot run: not installed, or its port taken. */
async function checkPrometheus(): Promise<void> {
  if (!commandExists('prometheus')) {
    throw new ServiceError(
      "--monitoring needs Debian's prometheus package (apt-get install prometheus); Grafana is not packaged in Debian: " +
        'its dashboard runs with docker compose --profile monitoring up',
    );
  }
  if (await isPortOpen('127.0.0.1', env.PROMETHEUS_PORT)) {
    throw new ServiceError(
      `port ${env.PROMETHEUS_PORT} is taken (Debian's prometheus service, started when the package was installed? ` +
        '`service prometheus stop`); or choose another with PROMETHEUS_PORT',
    );
  }
}

/** Debian's Prometheus with the shared scrape config and rules, pointed at the local ports. */
async function startPrometheus(): Promise<string> {
  const dir = path.join(root, '.local', 'prometheus');
  mkdirSync(dir, { recursive: true });
  const configFile = path.join(dir, 'prometheus.yml');
  const local = (port: number): string => `127.0.0.1:${port}`;
  writeFileSync(
    configFile,
    localPrometheusConfig(root, {
      targets: {
        producer: local(env.PRODUCER_PORT),
        aggregator: local(env.AGGREGATOR_PORT),
        web: local(env.WEB_PORT),
        prometheus: local(env.PROMETHEUS_PORT),
      },
    }),
  );
  runCommand(
    'prometheus',
    'prometheus',
    prometheusArgs({ configFile, dataDir: path.join(dir, 'data'), port: env.PROMETHEUS_PORT }),
    {},
  );
  const url = `http://localhost:${env.PROMETHEUS_PORT}`;
  await waitHealthy('prometheus', `${url}/-/ready`, 60_000);
  return url;
}

let shuttingDown: Promise<never> | undefined;

/** Stops every child (SIGTERM, SIGKILL after 15 s), then the services this script started. Runs once. */
function shutdown(code: number): Promise<never> {
  shuttingDown ??= (async () => {
    stopping = true;
    say('stopping...');
    const exits = [...children.entries()].map(
      ([name, child]) =>
        new Promise<void>((resolve) => {
          const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
          child.once('exit', () => {
            clearTimeout(timer);
            say(`${name} stopped`);
            resolve();
          });
          child.kill('SIGTERM');
        }),
    );
    await Promise.all(exits);
    await servicesDown(started, say);
    process.exit(code);
  })();
  return shuttingDown;
}

process.on('SIGINT', () => void shutdown(0));
process.on('SIGTERM', () => void shutdown(0));
// Should this script die some other way, its children must not outlive it.
process.on('exit', () => {
  for (const child of children.values()) child.kill('SIGKILL');
});

try {
  const t0 = Date.now();
  if (monitoring) await checkPrometheus();
  const services = localServices(root, env);
  started = await servicesUp(services, say);
  const binance: Record<string, string> = {};
  if (offline) {
    run('sim', 'binance-sim/src/main.ts', ['--synthetic', '--port', String(env.SIM_PORT)], {});
    await waitHealthy('sim', `http://127.0.0.1:${env.SIM_PORT}/api/v3/ping`, 60_000);
    binance.BINANCE_WS_URL = `ws://127.0.0.1:${env.SIM_PORT}`;
    binance.BINANCE_REST_URL = `http://127.0.0.1:${env.SIM_PORT}`;
  }
  const users = await clickhouseUsers(services);
  run('aggregator', 'aggregator/src/main.ts', [], users.aggregator);
  run('producer', 'producer/src/main.ts', [], binance);
  run('web', 'web/server/main.ts', [], users.web);
  await waitHealthy('web', `http://127.0.0.1:${env.WEB_PORT}/health`, 120_000);
  if (monitoring) {
    const url = await startPrometheus();
    say(`Prometheus at ${url}: graphs, and (Debian's classic UI) ${url}/classic/alerts and /classic/targets`);
  }
  say(
    `ready in ${((Date.now() - t0) / 1000).toFixed(0)}s: chart at http://localhost:${env.WEB_PORT}` +
      (offline ? ' (offline: synthetic market from the simulator)' : '') +
      ' — Ctrl-C stops everything',
  );
} catch (error) {
  console.error(`stack: error: ${error instanceof Error ? error.message : String(error)}`);
  await shutdown(1);
}
