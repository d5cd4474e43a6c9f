/**
 * The monitoring on the real stack: Debian's Prometheus, with the jobs and rules of
 * monitoring/prometheus pointed at local ports (scripts/monitoring.ts, as `npm run stack --
 * --monitoring` does), scrapes the simulator -> producer -> Kafka -> aggregator ->
 * ClickHouse -> web pipeline running here. Every dashboard query and every side of every
 * alert must return series; dead letters and a ClickHouse outage (a proxy in front of the
 * shared ClickHouse, cut) must fire their alerts, and the outage's must clear once
 * ClickHouse is back. Saves a screenshot of Prometheus's graph of the ingest rate.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { startAggregator, type Aggregator } from '@candleflow/aggregator/aggregator';
import { parseAggregatorConfig } from '@candleflow/aggregator/config';
import { startSimulator, type Simulator } from '@candleflow/binance-sim/simulator';
import { findProjectRoot } from '@candleflow/common/env';
import { createLogger } from '@candleflow/common/logger';
import { createRegistry, startOpsServer, type OpsServer } from '@candleflow/common/ops-server';
import { testClickhouseUrl, testKafkaBrokers, uniqueName, waitUntil } from '@candleflow/common/testing';
import { parseProducerConfig } from '@candleflow/producer/config';
import { startProducer, type RunningProducer } from '@candleflow/producer/producer';
import { createClient } from '@clickhouse/client';
import { Kafka, logLevel, type Producer } from 'kafkajs';
import WebSocket from 'ws';
import { parse, stringify } from 'yaml';
import { z } from 'zod';
import { localPrometheusConfig, prometheusArgs } from '../scripts/monitoring.js';
import { readWebConfig } from '../web/server/config.js';
import { startWebServer, type WebServer } from '../web/server/web-server.js';
import { launchBrowser } from '../web/test/support/browser.js';
import { alertsFile, dashboardQueries, readAlertRules, selectors, withoutThresholds } from './support/monitoring.js';
import { TcpProxy } from '@candleflow/common/tcp-proxy';

const root = findProjectRoot();
const screenshot = path.join(root, '.local', 'test-results', 'monitoring-prometheus.png');
const symbols = ['BTCUSDT', 'ETHUSDT', 'SOLUSDT'];
const name = uniqueName('monitoring');
const topics = { TOPIC_TRADES: `${name}.trades`, TOPIC_DEPTH: `${name}.depth`, TOPIC_DLQ: `${name}.dlq` };
const workDir = mkdtempSync(path.join(tmpdir(), 'candleflow-prometheus-'));

let proxy: TcpProxy | undefined;
let sim: Simulator | undefined;
let aggregator: Aggregator | undefined;
let producer: RunningProducer | undefined;
let ops: OpsServer | undefined;
let web: WebServer | undefined;
let client: WebSocket | undefined;
let kafka: Producer | undefined;
let prometheus: ChildProcess | undefined;
let prometheusUrl = '';

/** Ends Prometheus and the `timeout` wrapping it (one process group), also if this process exits early. */
function killPrometheus(signal: NodeJS.Signals): void {
  if (prometheus?.pid !== undefined && prometheus.exitCode === null && prometheus.signalCode === null) {
    process.kill(-prometheus.pid, signal);
  }
}
process.on('exit', () => killPrometheus('SIGKILL'));

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

const apiAnswer = z.object({ status: z.string(), data: z.unknown().optional(), error: z.string().optional() });

async function api<T>(pathAndQuery: string, schema: z.ZodType<T>): Promise<T> {
  const answer = apiAnswer.parse(
    await (await fetch(`${prometheusUrl}${pathAndQuery}`, { signal: AbortSignal.timeout(5000) })).json(),
  );
  if (answer.status !== 'success') throw new Error(`Prometheus ${pathAndQuery}: ${answer.error ?? answer.status}`);
  return schema.parse(answer.data);
}

const vector = z.object({
  resultType: z.literal('vector'),
  result: z.array(z.object({ metric: z.record(z.string(), z.string()), value: z.tuple([z.number(), z.string()]) })),
});
const query = async (expr: string) => (await api(`/api/v1/query?query=${encodeURIComponent(expr)}`, vector)).result;

const alertList = z.object({
  alerts: z.array(z.object({ labels: z.record(z.string(), z.string()), state: z.string() })),
});
/** Firing alerts as `name job`, sorted. */
const firing = async (): Promise<string[]> =>
  (await api('/api/v1/alerts', alertList)).alerts
    .filter((a) => a.state === 'firing')
    .map((a) => `${a.labels.alertname} ${a.labels.job ?? ''}`.trim())
    .sort();

before(
  async () => {
    const installed = spawnSync('prometheus', ['--version'], { encoding: 'utf8' });
    assert.equal(installed.status, 0, "Debian's prometheus package is needed: apt-get install prometheus");
    const clickhouse = new URL(testClickhouseUrl);
    proxy = new TcpProxy(clickhouse.hostname, Number(clickhouse.port || 8123));
    await proxy.start();
    const proxyUrl = `http://127.0.0.1:${proxy.port}`;
    sim = await startSimulator({ port: 0, source: { kind: 'synthetic', symbols, rate: 300, seed: 3 } });
    const kafkaBrokers = testKafkaBrokers.join(',');
    aggregator = await startAggregator(
      parseAggregatorConfig({
        ...topics,
        KAFKA_BROKERS: kafkaBrokers,
        CLICKHOUSE_URL: proxyUrl,
        CLICKHOUSE_DB: name,
        GROUP_ID: name,
        AGGREGATOR_PORT: '0',
        AGGREGATOR_HOST: '127.0.0.1',
        // Short windows: final windows (and their metrics) within seconds.
        WINDOW_SECONDS: '2',
        WINDOW_GRACE_MS: '500',
        WINDOW_EMIT_MS: '250',
        SINK_FLUSH_MS: '200',
        // Back soon after the outage ends.
        SINK_RETRY_MAX_MS: '1000',
        LOG_LEVEL: 'error',
      }),
    );
    const registry = createRegistry('producer');
    const running = await startProducer(
      parseProducerConfig({
        ...topics,
        SYMBOLS: symbols.join(','),
        BINANCE_WS_URL: sim.wsUrl,
        BINANCE_REST_URL: sim.restUrl,
        KAFKA_BROKERS: kafkaBrokers,
        LOG_LEVEL: 'error',
      }),
      { logger: createLogger('producer', 'error'), registry },
    );
    producer = running;
    ops = await startOpsServer({ port: 0, host: '127.0.0.1', registry, health: () => running.health() });
    web = await startWebServer(
      readWebConfig({
        WEB_HOST: '127.0.0.1',
        WEB_PORT: '0',
        CLICKHOUSE_URL: proxyUrl,
        CLICKHOUSE_DB: name,
        WINDOW_SECONDS: '2',
        LOG_LEVEL: 'error',
      }),
      { logger: createLogger('web', 'error'), migrate: false },
    );
    // A page's subscription: the web then queries ClickHouse and pushes every second.
    const ws = new WebSocket(`${web.url.replace(/^http/, 'ws')}/ws`);
    client = ws;
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    // The hub follows only symbols with a window stored: ask until updates come.
    let updates = 0;
    ws.on('message', (data: WebSocket.RawData) => {
      if ((JSON.parse(String(data)) as { type?: string }).type === 'update') updates++;
    });
    await waitUntil(
      'live updates for BTCUSDT',
      () => {
        if (updates > 0) return true;
        ws.send(JSON.stringify({ type: 'subscribe', symbol: 'BTCUSDT' }));
        return false;
      },
      { timeoutMs: 30_000, intervalMs: 1000 },
    );
    kafka = new Kafka({ clientId: name, brokers: testKafkaBrokers, logLevel: logLevel.NOTHING }).producer();
    await kafka.connect();

    // The shared rules with `for: 0s`: an alert fires at the first evaluation its condition holds.
    const rules = parse(readFileSync(alertsFile, 'utf8')) as { groups: { rules: Record<string, unknown>[] }[] };
    for (const rule of rules.groups.flatMap((g) => g.rules)) rule.for = '0s';
    const rulesFile = path.join(workDir, 'alerts.yml');
    writeFileSync(rulesFile, stringify(rules));
    const port = await freePort();
    const local = (p: number): string => `127.0.0.1:${p}`;
    const configFile = path.join(workDir, 'prometheus.yml');
    writeFileSync(
      configFile,
      localPrometheusConfig(root, {
        targets: {
          producer: local(ops.port),
          aggregator: local(aggregator.port),
          web: local(web.port),
          prometheus: local(port),
        },
        ruleFiles: [rulesFile],
        interval: '1s',
      }),
    );
    const check = spawnSync('promtool', ['check', 'config', configFile], { encoding: 'utf8' });
    assert.equal(check.status, 0, `promtool check config: ${check.stdout}${check.stderr}`);

    const log = openSync(path.join(workDir, 'prometheus.log'), 'a');
    // Its own port and data directory (never the package's service on 9090), and `timeout`
    // ends it should this test die without stopping it. Its own process group: killed as one.
    prometheus = spawn(
      'timeout',
      [
        '--kill-after=10',
        '300',
        'prometheus',
        ...prometheusArgs({ configFile, dataDir: path.join(workDir, 'data'), port }),
      ],
      { stdio: ['ignore', log, log], detached: true },
    );
    closeSync(log);
    prometheusUrl = `http://${local(port)}`;
    await waitUntil(
      'Prometheus ready',
      async () => (await fetch(`${prometheusUrl}/-/ready`).catch(() => undefined))?.ok === true,
      {
        timeoutMs: 20_000,
        intervalMs: 250,
        describe: () => readFileSync(path.join(workDir, 'prometheus.log'), 'utf8').slice(-2000),
      },
    );
  },
  { timeout: 90_000 },
);

after(async () => {
  client?.close();
  // The aggregator writes what it holds before it stops: ClickHouse must be there.
  await proxy?.start();
  await web?.close();
  await producer?.close();
  await ops?.close();
  await aggregator?.stop();
  await sim?.close();
  await kafka?.disconnect();
  if (prometheus && prometheus.exitCode === null && prometheus.signalCode === null) {
    const exited = new Promise((resolve) => prometheus?.once('exit', resolve));
    killPrometheus('SIGTERM');
    const timer = setTimeout(() => killPrometheus('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  }
  await proxy?.stop();
  const admin = createClient({ url: testClickhouseUrl });
  await admin.command({ query: `DROP DATABASE IF EXISTS ${name}` });
  await admin.close();
  const kafkaAdmin = new Kafka({ clientId: name, brokers: testKafkaBrokers, logLevel: logLevel.NOTHING }).admin();
  await kafkaAdmin.connect();
  await kafkaAdmin.deleteTopics({ topics: Object.values(topics) }).catch(() => undefined);
  await kafkaAdmin.disconnect();
  rmSync(workDir, { recursive: true, force: true });
});

const sendRaw = async (topic: string, key: string, value: string): Promise<void> => {
  await kafka?.send({ topic, messages: [{ key, value }] });
};

test(
  'Prometheus scrapes every service with the shared jobs, loads every rule, and nothing fires on a healthy stack',
  { timeout: 60_000 },
  async () => {
    const promtool = spawnSync('promtool', ['check', 'rules', alertsFile], { encoding: 'utf8' });
    assert.equal(promtool.status, 0, promtool.stdout + promtool.stderr);

    const targets = z.object({
      activeTargets: z.array(z.object({ labels: z.record(z.string(), z.string()), health: z.string() })),
    });
    await waitUntil(
      'every target up',
      async () => {
        const active = (await api('/api/v1/targets', targets)).activeTargets;
        return active.length === 4 && active.every((t) => t.health === 'up');
      },
      { timeoutMs: 20_000, intervalMs: 250 },
    );

    const ruleGroups = z.object({
      groups: z.array(
        z.object({
          rules: z.array(z.object({ name: z.string(), health: z.string(), lastError: z.string().optional() })),
        }),
      ),
    });
    const expected = readAlertRules()
      .groups.flatMap((g) => g.rules.map((r) => r.alert))
      .sort();
    const loaded = await waitUntil('every rule evaluated', async () => {
      const rules = (await api('/api/v1/rules?type=alert', ruleGroups)).groups.flatMap((g) => g.rules);
      return rules.length === expected.length && rules.every((r) => r.health !== 'unknown') ? rules : undefined;
    });
    assert.deepEqual(loaded.map((r) => r.name).sort(), expected);
    for (const rule of loaded) assert.equal(rule.health, 'ok', `${rule.name}: ${rule.lastError}`);

    // Trades flow, both targets reach Kafka and ClickHouse: a few evaluations with none firing.
    await waitUntil('trades counted by Prometheus', async () => {
      const [rate] = await query('sum(rate(producer_messages_in_total{stream="trade"}[10s]))');
      return Number(rate?.value[1]) > 0;
    });
    const evaluations = z.object({
      groups: z.array(z.object({ rules: z.array(z.object({ lastEvaluation: z.string() })) })),
    });
    /** When the least recently evaluated rule was last evaluated. */
    const evaluatedAt = async (): Promise<number> =>
      Math.min(
        ...(await api('/api/v1/rules?type=alert', evaluations)).groups.flatMap((g) =>
          g.rules.map((r) => Date.parse(r.lastEvaluation)),
        ),
      );
    for (let i = 0; i < 3; i++) {
      const previous = await evaluatedAt();
      await waitUntil('every rule evaluated again', async () => (await evaluatedAt()) > previous, {
        intervalMs: 200,
      });
      assert.deepEqual(await firing(), []);
    }
  },
);

test('dead letters and a ClickHouse outage fire their alerts, and the outage clears', { timeout: 60_000 }, async () => {
  // Events the dashboard shows that a healthy run never has: a dead letter, a depth gap
  // the producer resyncs after, and a gap in the depth topic itself (a symbol of its own).
  await sendRaw(topics.TOPIC_TRADES, 'BTCUSDT', 'not json');
  sim?.skipNextDiff('ETHUSDT');
  const depthUpdate = (U: number) =>
    JSON.stringify({ e: 'depthUpdate', E: Date.now(), s: 'XRPUSDT', U, u: U + 1, b: [], a: [] });
  await sendRaw(topics.TOPIC_DEPTH, 'XRPUSDT', depthUpdate(100));
  await sendRaw(topics.TOPIC_DEPTH, 'XRPUSDT', depthUpdate(200));

  // A second dead letter once Prometheus has the first: the counter rises.
  // Two scrapes of the first, so that the second is a rise Prometheus sees.
  await waitUntil(
    'the first dead letter scraped twice',
    async () => Number((await query('count_over_time(aggregator_dlq_messages_total[1m])'))[0]?.value[1] ?? 0) >= 2,
  );
  await sendRaw(topics.TOPIC_TRADES, 'BTCUSDT', 'still not json');
  await waitUntil('DeadLettersRising firing', async () => (await firing()).includes('DeadLettersRising aggregator'), {
    timeoutMs: 20_000,
    describe: () => 'not firing',
  });

  await proxy?.stop();
  const during = await waitUntil(
    'ClickHouseUnreachable firing for the aggregator and the web',
    async () => {
      const now = await firing();
      return now.includes('ClickHouseUnreachable aggregator') && now.includes('ClickHouseUnreachable web')
        ? now
        : undefined;
    },
    { timeoutMs: 20_000 },
  );
  assert.deepEqual(
    during.filter((a) => !a.startsWith('DeadLettersRising')),
    ['ClickHouseUnreachable aggregator', 'ClickHouseUnreachable web'],
    'nothing else fires',
  );

  await proxy?.start();
  // The web's side looks back a minute (a rate); the aggregator's is its current state.
  await waitUntil(
    "the aggregator's ClickHouseUnreachable resolved",
    async () => !(await firing()).includes('ClickHouseUnreachable aggregator'),
    { timeoutMs: 20_000 },
  );
});

test(
  'every dashboard query, and every side of every alert without its threshold, returns series',
  { timeout: 60_000 },
  async () => {
    const queries = [
      ...dashboardQueries().map((q) => ({ where: `panel "${q.panel}" ${q.refId}`, expr: q.expr })),
      ...readAlertRules().groups.flatMap((g) =>
        g.rules.flatMap((r) => [
          ...withoutThresholds(r.expr).map((expr) => ({ where: `alert ${r.alert}`, expr })),
          ...selectors(r.expr).map((expr) => ({ where: `alert ${r.alert} selector`, expr })),
        ]),
      ),
    ];
    let empty: string[] = [];
    await waitUntil(
      'series for every query',
      async () => {
        const results = await Promise.all(queries.map(async (q) => ({ ...q, n: (await query(q.expr)).length })));
        empty = results.filter((r) => r.n === 0).map((r) => `${r.where}: ${r.expr}`);
        return empty.length === 0;
      },
      { timeoutMs: 30_000, intervalMs: 1000, describe: () => `no series:\n${empty.join('\n')}` },
    );
  },
);

test("Prometheus's own graph shows the ingest rate", { timeout: 90_000 }, async () => {
  // Most of the graph's minute filled: 40 one-second scrapes of the producer.
  await waitUntil(
    '40 s of ingest samples',
    async () => {
      const [samples] = await query('count_over_time(producer_messages_in_total{stream="trade"}[1m])');
      return Number(samples?.value[1]) >= 40;
    },
    { timeoutMs: 60_000, intervalMs: 1000 },
  );
  const browser = await launchBrowser({ width: 1000, height: 700 });
  try {
    const page = await browser.context.newPage();
    // A 10 s rate: the test's stack has run for well under a minute when the picture is taken.
    const expr = 'sum by (stream) (rate(producer_messages_in_total[10s]))';
    await page.goto(`${prometheusUrl}/classic/graph?g0.expr=${encodeURIComponent(expr)}&g0.tab=0&g0.range_input=1m`);
    // Rickshaw draws one path per series: trade and depth.
    await page.locator('.graph_area svg path').nth(1).waitFor({ timeout: 15_000 });
    const legend = await page.locator('.legend').innerText();
    assert.match(legend, /trade/);
    assert.match(legend, /depth/);
    mkdirSync(path.dirname(screenshot), { recursive: true });
    await page.screenshot({ path: screenshot, fullPage: true });
  } finally {
    await browser.close();
  }
});
