/**
 * Static checks of the monitoring profile, for machines without Docker or Grafana: the
 * dashboard is one Grafana's provisioning loads, every query and rule names metrics the
 * services really register, and compose would run Prometheus and Grafana with the files
 * of monitoring/ mounted where their configs point. The queries' results on the running
 * stack are checked by monitoring.integration.test.ts.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { createAggregatorMetrics } from '@candleflow/aggregator/metrics';
import { findProjectRoot } from '@candleflow/common/env';
import { createRegistry } from '@candleflow/common/ops-server';
import { createProducerMetrics } from '@candleflow/producer/metrics';
import { parse } from 'yaml';
import { z } from 'zod';
import { readPrometheusConfig } from '../scripts/monitoring.js';
import { WebMetrics } from '../web/server/web-metrics.js';
import { dashboardQueries, metricNames, readAlertRules, readDashboard } from './support/monitoring.js';

const root = findProjectRoot();
const read = (file: string): string => readFileSync(path.join(root, file), 'utf8');

const composeSchema = z.object({
  services: z.record(
    z.string(),
    z.looseObject({
      image: z.string().optional(),
      profiles: z.array(z.string()).optional(),
      command: z.array(z.string()).optional(),
      environment: z.record(z.string(), z.union([z.string(), z.number()])).optional(),
      ports: z.array(z.string()).optional(),
      volumes: z.array(z.string()).optional(),
    }),
  ),
  volumes: z.record(z.string(), z.null()),
});
const compose = composeSchema.parse(parse(read('docker-compose.yml'), { merge: true }));

/** What `docker compose --profile monitoring config` runs: services of no profile, or of that one. */
const monitoringProfile = Object.fromEntries(
  Object.entries(compose.services).filter(([, s]) => !s.profiles || s.profiles.includes('monitoring')),
);

interface Mount {
  source: string;
  target: string;
}

/** A service's bind mounts (`./repo/path:/container/path[:ro]`), named volumes left out. */
function bindMounts(service: string): Mount[] {
  return (compose.services[service]?.volumes ?? []).flatMap((volume) => {
    const [source, target] = volume.split(':');
    return source?.startsWith('.') && target ? [{ source, target }] : [];
  });
}

/** The repository file a service sees at `containerPath`, through its bind mounts. */
function repoPath(service: string, containerPath: string): string {
  const mount = bindMounts(service).find(
    (m) => containerPath === m.target || containerPath.startsWith(`${m.target.replace(/\/$/, '')}/`),
  );
  assert.ok(mount, `${service}: nothing mounted at ${containerPath}`);
  return path.join(root, mount.source, path.relative(mount.target, containerPath));
}

/** Container ports a service publishes (`host:published:container`). */
function containerPorts(service: string): number[] {
  return (compose.services[service]?.ports ?? []).map((p) => Number(p.split(':').at(-1)));
}

test('the monitoring profile adds Prometheus and Grafana, on pinned images, to the whole stack', () => {
  const added = Object.entries(monitoringProfile).flatMap(([name, s]) =>
    s.profiles?.includes('monitoring') ? [name] : [],
  );
  assert.deepEqual(added.sort(), ['grafana', 'prometheus']);
  for (const name of ['kafka', 'clickhouse', 'producer', 'aggregator', 'web']) {
    assert.ok(monitoringProfile[name], `${name} runs with the monitoring profile too`);
  }
  assert.match(compose.services.prometheus?.image ?? '', /^prom\/prometheus:v\d+\.\d+\.\d+$/);
  assert.match(compose.services.grafana?.image ?? '', /^grafana\/grafana:\d+\.\d+\.\d+$/);
  assert.deepEqual(containerPorts('prometheus'), [9090]);
  assert.deepEqual(containerPorts('grafana'), [3000]);
});

test('every file compose mounts exists in the repository', () => {
  const mounts = Object.keys(compose.services).flatMap((name) => bindMounts(name).map((m) => ({ name, ...m })));
  assert.ok(mounts.some((m) => m.name === 'prometheus') && mounts.some((m) => m.name === 'grafana'));
  for (const { name, source } of mounts) assert.ok(existsSync(path.join(root, source)), `${name}: ${source}`);
});

test("Prometheus's config, rules and data are where its command line says", () => {
  const command = compose.services.prometheus?.command ?? [];
  const flag = (name: string): string => {
    const value = command.find((arg) => arg.startsWith(`--${name}=`))?.split('=')[1];
    assert.ok(value, `--${name} on the command line`);
    return value;
  };
  const configFile = repoPath('prometheus', flag('config.file'));
  assert.equal(configFile, path.join(root, 'monitoring/prometheus/prometheus.yml'));
  const config = readPrometheusConfig(root);
  for (const rules of config.rule_files) {
    assert.ok(existsSync(path.resolve(path.dirname(configFile), rules)), `rule file ${rules}`);
  }
  assert.ok(
    compose.services.prometheus?.volumes?.includes(`prometheus-data:${flag('storage.tsdb.path')}`),
    'its data on the named volume',
  );
});

test('every scrape target is a compose service and the port it listens on', () => {
  const config = readPrometheusConfig(root);
  assert.deepEqual(config.scrape_configs.map((job) => job.job_name).sort(), [
    'aggregator',
    'producer',
    'prometheus',
    'web',
  ]);
  for (const job of config.scrape_configs) {
    for (const target of job.static_configs.flatMap((c) => c.targets)) {
      const [host, port] = target.split(':');
      // Its own job scrapes itself inside its container.
      const service = host === 'localhost' ? job.job_name : (host ?? '');
      assert.ok(monitoringProfile[service], `${job.job_name}: ${target} is no service of the profile`);
      assert.ok(
        containerPorts(service).includes(Number(port)),
        `${job.job_name}: ${service} does not listen on ${port}`,
      );
    }
  }
});

test("Grafana's datasource is the compose Prometheus, and its dashboard is provisioned from the mounted folder", () => {
  const datasources = z
    .object({
      apiVersion: z.literal(1),
      datasources: z.array(z.object({ uid: z.string(), type: z.literal('prometheus'), url: z.string() })).length(1),
    })
    .parse(parse(read('monitoring/grafana/provisioning/datasources/prometheus.yml')));
  const source = datasources.datasources[0];
  assert.equal(source?.url, `http://prometheus:${containerPorts('prometheus')[0]}`);

  const providers = z
    .object({
      apiVersion: z.literal(1),
      providers: z.array(z.object({ type: z.literal('file'), options: z.object({ path: z.string() }) })).length(1),
    })
    .parse(parse(read('monitoring/grafana/provisioning/dashboards/provider.yml')));
  const dashboards = repoPath('grafana', providers.providers[0]?.options.path ?? '');
  assert.ok(statSync(dashboards).isDirectory());
  assert.ok(existsSync(path.join(dashboards, 'candleflow.json')), 'the dashboard is in the provider folder');
  // Grafana reads its provisioning from /etc/grafana/provisioning unless told otherwise.
  assert.equal(repoPath('grafana', '/etc/grafana/provisioning'), path.join(root, 'monitoring/grafana/provisioning'));
  const home = String(compose.services.grafana?.environment?.GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH);
  assert.ok(existsSync(repoPath('grafana', home)), `home dashboard ${home}`);

  // Every panel and query uses the provisioned datasource.
  const dashboard = readDashboard();
  for (const panel of dashboard.panels) {
    if (panel.type === 'row') continue;
    assert.equal(panel.datasource.uid, source?.uid, panel.title);
    for (const target of panel.targets) assert.equal(target.datasource.uid, source?.uid, panel.title);
  }
});

test('the dashboard has unique panel ids and query ids, and panels that do not overlap', () => {
  const dashboard = readDashboard();
  const ids = dashboard.panels.map((p) => p.id);
  assert.equal(new Set(ids).size, ids.length, 'unique panel ids');
  const cells = new Map<string, string>();
  for (const panel of dashboard.panels) {
    const { x, y, w, h } = panel.gridPos;
    assert.ok(x + w <= 24, `${panel.title}: wider than the grid`);
    for (let i = x; i < x + w; i++) {
      for (let j = y; j < y + h; j++) {
        const other = cells.get(`${i},${j}`);
        assert.equal(other, undefined, `${panel.title} overlaps ${other}`);
        cells.set(`${i},${j}`, panel.title);
      }
    }
    if (panel.type !== 'row') {
      const refIds = panel.targets.map((t) => t.refId);
      assert.equal(new Set(refIds).size, refIds.length, `${panel.title}: unique refIds`);
    }
  }
});

test('every metric the dashboard and the alerts name is one the services register', async () => {
  const producer = createRegistry('producer');
  createProducerMetrics(producer, ['binance.trades']);
  const aggregator = createRegistry('aggregator');
  createAggregatorMetrics(aggregator);
  const registered = new Set(
    (await Promise.all([producer, aggregator, new WebMetrics().registry].map((r) => r.getMetricsAsJSON()))).flatMap(
      (metrics) => metrics.map((m) => m.name),
    ),
  );
  // Prometheus's own: whether the scrape of a target succeeded.
  registered.add('up');
  const used = [
    ...dashboardQueries().map((q) => ({ where: `panel "${q.panel}" ${q.refId}`, expr: q.expr })),
    ...readAlertRules().groups.flatMap((g) => g.rules.map((r) => ({ where: `alert ${r.alert}`, expr: r.expr }))),
  ];
  for (const { where, expr } of used) {
    const names = metricNames(expr);
    assert.ok(names.length > 0, `${where}: no metric in ${expr}`);
    for (const name of names) assert.ok(registered.has(name), `${where}: no metric ${name}`);
  }
});
