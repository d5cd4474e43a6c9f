/**
 * Static checks of docker-compose.yml and the Dockerfile, for machines without a Docker
 * engine: what compose would need to build and wire the stack is there and consistent,
 * and its defaults are safe (loopback ports, passwords, data on volumes, memory limits).
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { findProjectRoot } from '@candleflow/common/env';
import { parseProducerConfig } from '@candleflow/producer/config';
import { parse } from 'yaml';
import { z } from 'zod';
import { parseDockerfile } from './dockerfile.js';

const root = findProjectRoot();
const read = (file: string): string => readFileSync(path.join(root, file), 'utf8');

const composeSchema = z.object({
  services: z.record(
    z.string(),
    z.looseObject({
      image: z.string().optional(),
      build: z.object({ context: z.string(), target: z.string(), dockerfile: z.string().optional() }).optional(),
      environment: z.record(z.string(), z.union([z.string(), z.number()])).optional(),
      ports: z.array(z.string()).optional(),
      healthcheck: z.object({ test: z.array(z.string()) }).optional(),
      depends_on: z.record(z.string(), z.object({ condition: z.string() })).optional(),
      profiles: z.array(z.string()).optional(),
      restart: z.string().optional(),
      volumes: z.array(z.string()).optional(),
      mem_limit: z.string().optional(),
      stop_grace_period: z.string().optional(),
    }),
  ),
  volumes: z.record(z.string(), z.null()),
});

/**
 * Compose's variable interpolation, for the forms this project uses: `$$`, `${NAME}`,
 * `${NAME:-default}`, `${NAME-default}`, `${NAME:?error}` and `${NAME?error}`.
 */
function interpolate(text: string, env: Record<string, string>): string {
  return text.replace(
    /\$\$|\$\{([A-Z_][A-Z0-9_]*)(?:(:?)([-?])([^}]*))?\}/g,
    (_, name?: string, colon?: string, op?: string, arg?: string) => {
      if (name === undefined) return '$';
      const value = env[name];
      const missing = value === undefined || (colon === ':' && value === '');
      if (!missing) return value;
      if (op === '?') throw new Error(`${name}: ${arg}`);
      return op === '-' ? (arg ?? '') : '';
    },
  );
}

/** The parsed file with every string value interpolated, as `docker compose config` shows it. */
function resolve(value: unknown, env: Record<string, string>): unknown {
  if (typeof value === 'string') return interpolate(value, env);
  if (Array.isArray(value)) return value.map((v) => resolve(v, env));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolve(v, env)]));
  }
  return value;
}

const composeText = read('docker-compose.yml');
const raw: unknown = parse(composeText, { merge: true });
const compose = composeSchema.parse(raw);
const services = compose.services;
/** The compose file as it runs with no .env: every variable at its default. */
const defaults = composeSchema.parse(resolve(raw, {})).services;
const documented = new Set([...read('.env.example').matchAll(/^([A-Z][A-Z0-9_]*)=/gm)].map((m) => m[1]));
const appServices = Object.entries(services).flatMap(([name, s]) => (s.build ? [{ name, ...s, build: s.build }] : []));

test('every built service has an existing context, Dockerfile and target stage', () => {
  assert.deepEqual(appServices.map(({ name }) => name).sort(), ['aggregator', 'binance-sim', 'producer', 'web']);
  for (const { name, build } of appServices) {
    const dockerfile = path.join(root, build.context, build.dockerfile ?? 'Dockerfile');
    assert.ok(existsSync(dockerfile), `${name}: ${dockerfile} is missing`);
    const stages = parseDockerfile(readFileSync(dockerfile, 'utf8')).stages.map((s) => s.name);
    assert.ok(stages.includes(build.target), `${name}: no stage "${build.target}" in ${dockerfile}`);
  }
});

test('every variable compose passes or interpolates is documented in .env.example', () => {
  const interpolated = [...composeText.matchAll(/\$\{([A-Z][A-Z0-9_]*)/g)].map((m) => m[1]);
  const passed = appServices.flatMap((s) => Object.keys(s.environment ?? {}));
  const missing = [...new Set([...interpolated, ...passed])].filter((v) => !documented.has(v));
  assert.deepEqual(missing, [], `not in .env.example: ${missing.join(', ')}`);
});

test('every service has a healthcheck, and dependencies wait for health', () => {
  const dockerfile = parseDockerfile(read('Dockerfile'));
  for (const [name, service] of Object.entries(services)) {
    const inImage = service.build ? dockerfile.stage(service.build.target).healthcheck : undefined;
    assert.ok(service.healthcheck ?? inImage, `${name} has no healthcheck`);
    for (const [dependency, { condition }] of Object.entries(service.depends_on ?? {})) {
      assert.equal(condition, 'service_healthy', `${name} -> ${dependency}`);
    }
    if (!service.profiles) assert.equal(service.restart, 'unless-stopped', `${name} restart policy`);
  }
});

test('the chart (8050) and Kafka for host tools (9092) are published', () => {
  const published = Object.values(defaults).flatMap((s) => s.ports ?? []);
  assert.ok(published.includes('127.0.0.1:8050:8050'), 'port 8050');
  assert.ok(published.includes('127.0.0.1:9092:9092'), 'port 9092');
});

test('nothing is published beyond this machine unless BIND_ADDRESS says so', () => {
  const published = (env: Record<string, string>) =>
    Object.values(composeSchema.parse(resolve(raw, env)).services).flatMap((s) => s.ports ?? []);
  assert.ok(published({}).length > 0);
  for (const port of published({})) assert.match(port, /^127\.0\.0\.1:\d+:\d+$/);
  // Every port follows the variable: none has an address of its own.
  for (const port of published({ BIND_ADDRESS: '192.0.2.7' })) assert.match(port, /^192\.0\.2\.7:\d+:\d+$/);
});

test('every named volume is mounted where its service keeps its data', () => {
  const dataDirs: Record<string, string | undefined> = {
    // The apache/kafka image writes to /tmp/kraft-combined-logs unless KAFKA_LOG_DIRS says otherwise.
    kafka: String(defaults.kafka?.environment?.KAFKA_LOG_DIRS),
    clickhouse: '/var/lib/clickhouse',
    // The monitoring profile: the images' data directories (storage.tsdb.path, Grafana's home).
    prometheus: '/prometheus',
    grafana: '/var/lib/grafana',
  };
  const mounted = Object.entries(defaults).flatMap(([name, service]) =>
    (service.volumes ?? [])
      .map((volume) => volume.split(':'))
      .filter(([source]) => source !== undefined && source in compose.volumes)
      .map(([source, target]) => ({ name, source, target })),
  );
  assert.deepEqual(mounted.map((m) => m.source).sort(), Object.keys(compose.volumes).sort(), 'each volume used once');
  for (const { name, source, target } of mounted) assert.equal(target, dataDirs[name], `${source} in ${name}`);
});

/** Compose's duration format (`30s`, `1m30s`, `500ms`) in milliseconds. */
function durationMs(text: string): number {
  const units: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1000, ms: 1, us: 0.001 };
  const parts = [...text.matchAll(/(\d+(?:\.\d+)?)(h|ms|m|s|us)/g)];
  assert.equal(parts.map((p) => p[0]).join(''), text, `duration ${text}`);
  return parts.reduce((sum, [, n, unit]) => sum + Number(n) * (units[unit ?? ''] ?? NaN), 0);
}

test('every service gets longer to stop than the producer and aggregator take to flush', () => {
  const aggregatorWrite = /const SHUTDOWN_WRITE_TIMEOUT_MS = ([\d_]+);/.exec(read('aggregator/src/aggregator.ts'))?.[1];
  assert.ok(aggregatorWrite, "the aggregator's shutdown write timeout");
  const flushes = [parseProducerConfig({}).SHUTDOWN_FLUSH_MS, Number(aggregatorWrite.replaceAll('_', ''))];
  for (const [name, service] of Object.entries(defaults)) {
    assert.ok(service.stop_grace_period, `${name}: no stop_grace_period (compose's default is 10 s)`);
    // Twice the longest: disconnecting from Kafka and ClickHouse follows the flush.
    assert.ok(
      durationMs(service.stop_grace_period) >= 2 * Math.max(...flushes),
      `${name}: ${service.stop_grace_period}`,
    );
  }
});

/** Compose's byte format (`512m`, `1g`, `1.5g`) in bytes. */
function bytes(text: string): number {
  const match = /^(\d+(?:\.\d+)?)([bkmg])$/i.exec(text);
  assert.ok(match, `size ${text}`);
  return Number(match[1]) * 1024 ** 'bkmg'.indexOf((match[2] ?? 'b').toLowerCase());
}

test("every service has a memory limit, and Kafka's heaps fit in its own", () => {
  for (const [name, service] of Object.entries(defaults)) assert.ok(service.mem_limit, `${name}: no mem_limit`);
  const kafka = defaults.kafka;
  const heap = (opts: string) => bytes(/-Xmx(\d+[kmg])/i.exec(opts)?.[1] ?? 'none');
  const brokerHeap = heap(String(kafka?.environment?.KAFKA_HEAP_OPTS));
  // The healthcheck starts a second JVM in the same container, every 10 s.
  const checkHeap = heap(kafka?.healthcheck?.test.join(' ') ?? '');
  assert.ok(
    brokerHeap + checkHeap <= 0.8 * bytes(kafka?.mem_limit ?? '0b'),
    'heaps leave room for the JVMs themselves',
  );
});

test('ClickHouse has a password, and the web reads it as the read-only user', () => {
  const clickhouse = defaults.clickhouse?.environment ?? {};
  assert.notEqual(clickhouse.CLICKHOUSE_PASSWORD ?? '', '', 'a password by default');
  assert.equal(
    clickhouse.CLICKHOUSE_DEFAULT_ACCESS_MANAGEMENT,
    undefined,
    'no SQL user management for the default user',
  );
  const usersFile = './clickhouse/users.d/candleflow-web.xml';
  assert.ok(
    defaults.clickhouse?.volumes?.includes(`${usersFile}:/etc/clickhouse-server/users.d/candleflow-web.xml:ro`),
    'the read-only user is mounted into users.d',
  );
  // An unset from_env variable would leave the user's password empty.
  for (const [, name] of read(usersFile).matchAll(/from_env="(\w+)"/g)) {
    assert.notEqual(String(clickhouse[name ?? ''] ?? ''), '', `${name} set for ClickHouse`);
  }
  const web = defaults.web?.environment ?? {};
  assert.equal(web.CLICKHOUSE_USER, 'candleflow_web');
  assert.equal(web.CLICKHOUSE_PASSWORD, clickhouse.CLICKHOUSE_WEB_PASSWORD);
  assert.equal(web.CLICKHOUSE_DB, clickhouse.CLICKHOUSE_DB, 'the database the user may read');
  for (const name of ['producer', 'aggregator']) {
    assert.equal(defaults[name]?.environment?.CLICKHOUSE_PASSWORD, clickhouse.CLICKHOUSE_PASSWORD, name);
  }
});

test('Kafka in compose is the version the local broker runs', () => {
  const local = /<kafka.version>([^<]+)<\/kafka.version>/.exec(read('scripts/kafka/pom.xml'))?.[1];
  assert.ok(local);
  assert.equal(services.kafka?.image, `apache/kafka:${local}`);
  assert.match(
    services.clickhouse?.image ?? '',
    /^clickhouse\/clickhouse-server:\d+\.\d+\.\d+\.\d+$/,
    'pinned ClickHouse',
  );
});

test('images build from node:20 slim, install with npm ci, and run as a non-root user', () => {
  const dockerfile = parseDockerfile(read('Dockerfile'));
  for (const stage of dockerfile.stages) {
    if (stage.from.startsWith('node:')) assert.match(stage.from, /^node:20(\.\d+)*-[a-z]+-slim$/);
  }
  const build = dockerfile.stage('build');
  assert.ok(
    build.run.some((r) => r.startsWith('npm ci')),
    'npm ci with the lock file',
  );
  assert.ok(
    build.run.some((r) => r.startsWith('npm prune --omit=dev')),
    'production dependencies only',
  );
  for (const { build } of appServices) assert.equal(dockerfile.userOf(build.target), 'node');
  const ignored = read('.dockerignore');
  for (const entry of ['**/node_modules', '.local', '.git'])
    assert.ok(ignored.includes(entry), `.dockerignore: ${entry}`);
});

test('every variable a service reads is documented in .env.example', () => {
  const configs = ['producer/src/config.ts', 'aggregator/src/config.ts', 'web/server/config.ts', 'common/src/env.ts'];
  const read = configs.flatMap((file) =>
    [...readFileSync(path.join(root, file), 'utf8').matchAll(/^\s+([A-Z][A-Z0-9_]+):/gm)].map((m) => m[1]),
  );
  const missing = [...new Set(read)].filter((v) => v !== undefined && !documented.has(v));
  assert.deepEqual(missing, [], `not in .env.example: ${missing.join(', ')}`);
});
