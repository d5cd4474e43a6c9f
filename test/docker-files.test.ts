/**
 * Static checks of docker-compose.yml and the Dockerfile, for machines without a Docker
 * engine: what compose would need to build and wire the stack is there and consistent.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { findProjectRoot } from '@candleflow/common/env';
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
    }),
  ),
});

const composeText = read('docker-compose.yml');
const compose = composeSchema.parse(parse(composeText, { merge: true }));
const services = compose.services;
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
  const published = Object.values(services).flatMap((s) => s.ports ?? []);
  assert.ok(
    published.some((p) => p.endsWith(':8050')),
    'port 8050',
  );
  assert.ok(published.includes('9092:9092'), 'port 9092');
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
