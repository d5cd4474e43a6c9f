import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { waitUntil } from '@candleflow/common/testing';
import { Registry, type Counter } from 'prom-client';
import { BinanceRest } from '../src/binance-rest.js';
import { createProducerMetrics } from '../src/metrics.js';
import { RequestWeightBudget } from '../src/request-weight-budget.js';
import { SnapshotFetcher } from '../src/snapshot-fetcher.js';
import { captureLogger } from './support/harness.js';

interface Served {
  url: string;
  requests: { path: string; at: number }[];
  close(): Promise<void>;
}

/** A REST endpoint on loopback answering with `reply(requestNumber)`. */
async function serve(
  reply: (n: number, res: http.ServerResponse) => void,
  options: { holdMs?: number; inFlight?: { now: number; max: number } } = {},
): Promise<Served> {
  const requests: Served['requests'] = [];
  const server = http.createServer((req, res) => {
    requests.push({ path: req.url ?? '', at: Date.now() });
    const n = requests.length;
    const tracker = options.inFlight;
    if (tracker) tracker.max = Math.max(tracker.max, ++tracker.now);
    setTimeout(() => {
      if (tracker) tracker.now--;
      reply(n, res);
    }, options.holdMs ?? 0);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

const body = (lastUpdateId: number): string =>
  JSON.stringify({ lastUpdateId, bids: [['100.00', '1.5']], asks: [['101.00', '2.0']] });

function fetcher(
  restUrl: string,
  overrides: { concurrency?: number; depth?: number; budget?: RequestWeightBudget } = {},
) {
  const { logger, lines } = captureLogger();
  const registry = new Registry();
  const budget = overrides.budget ?? new RequestWeightBudget(3000);
  const rest = new BinanceRest({ restUrl, budget, metrics: createProducerMetrics(registry) });
  const snapshots = new SnapshotFetcher({
    rest,
    budget,
    depth: overrides.depth ?? 1000,
    concurrency: overrides.concurrency ?? 2,
    backoff: { minMs: 20, maxMs: 100 },
    logger,
  });
  const close = (): void => {
    snapshots.close();
    rest.close();
  };
  return { snapshots, close, logs: lines, registry };
}

test('asks for the 1000-level book of the symbol and returns it with the receive time', async (t) => {
  const server = await serve((_n, res) => res.end(body(42)));
  t.after(() => server.close());
  const { snapshots, close } = fetcher(server.url);
  t.after(close);
  const before = Date.now();
  const snapshot = await snapshots.fetch('BTCUSDT');
  assert.deepEqual(
    server.requests.map((r) => r.path),
    ['/api/v3/depth?symbol=BTCUSDT&limit=1000'],
  );
  assert.deepEqual(
    { ...snapshot, receivedAt: 0 },
    {
      symbol: 'BTCUSDT',
      lastUpdateId: 42,
      bids: [['100.00', '1.5']],
      asks: [['101.00', '2.0']],
      receivedAt: 0,
    },
  );
  assert.ok(snapshot.receivedAt >= before && snapshot.receivedAt <= Date.now());
});

test('429 with Retry-After: waits that long before asking again, and says why', async (t) => {
  const server = await serve((n, res) => {
    if (n === 1) {
      res.writeHead(429, { 'retry-after': '1', 'content-type': 'application/json' });
      res.end('{"code":-1003,"msg":"Too many requests"}');
    } else {
      res.end(body(7));
    }
  });
  t.after(() => server.close());
  const { snapshots, close, logs } = fetcher(server.url);
  t.after(close);
  const snapshot = await snapshots.fetch('ETHUSDT');
  assert.equal(snapshot.lastUpdateId, 7);
  const [first, second] = server.requests;
  assert.ok(first && second && second.at - first.at >= 1000, 'the second request waited for Retry-After');
  assert.ok(logs.some((l) => /HTTP 429 \(request weight exceeded\), pausing REST requests for 1s/.test(l.msg)));
});

test('errors and bad answers are retried with backoff until a valid snapshot arrives', async (t) => {
  const server = await serve((n, res) => {
    if (n === 1) {
      res.writeHead(503);
      res.end('maintenance');
    } else if (n === 2) {
      res.end('{"lastUpdateId":"x"}');
    } else {
      res.end(body(9));
    }
  });
  t.after(() => server.close());
  const { snapshots, close, logs } = fetcher(server.url);
  t.after(close);
  assert.equal((await snapshots.fetch('SOLUSDT')).lastUpdateId, 9);
  assert.deepEqual(
    logs.filter((l) => l.level === 40).map((l) => (l.msg.match(/failed: ([^:;]+)/) ?? [])[1]),
    ['HTTP 503', 'unexpected answer'],
  );
});

test('no more requests in flight than the concurrency allows', async (t) => {
  const inFlight = { now: 0, max: 0 };
  const server = await serve((n, res) => res.end(body(n)), { holdMs: 50, inFlight });
  t.after(() => server.close());
  const { snapshots, close } = fetcher(server.url, { concurrency: 2 });
  t.after(close);
  const results = await Promise.all(['A', 'B', 'C', 'D', 'E', 'F'].map((s) => snapshots.fetch(`${s}USDT`)));
  assert.equal(results.length, 6);
  assert.equal(inFlight.max, 2);
});

test('close() ends a fetch that is still waiting for the exchange', async (t) => {
  const held: http.ServerResponse[] = [];
  const server = await serve((_n, res) => held.push(res));
  t.after(() => server.close());
  t.after(() => held.forEach((res) => res.destroy()));
  const { snapshots, close } = fetcher(server.url);
  const pending = snapshots.fetch('BTCUSDT');
  await waitUntil('the request to arrive', () => held.length === 1);
  close();
  await assert.rejects(pending, { name: 'AbortError' });
});

test('SNAPSHOT_DEPTH is the depth asked for, and its weight (250 for 5000) comes off the shared budget', async (t) => {
  const server = await serve((_n, res) => res.end(body(3)));
  t.after(() => server.close());
  const budget = new RequestWeightBudget(3000);
  const { snapshots, close, registry } = fetcher(server.url, { depth: 5000, budget });
  t.after(close);
  await snapshots.fetch('BTCUSDT');
  assert.deepEqual(
    server.requests.map((r) => r.path),
    ['/api/v3/depth?symbol=BTCUSDT&limit=5000'],
  );
  assert.equal(budget.take(2750, Date.now()), 0, 'what is left of the minute');
  assert.ok(budget.take(1, Date.now()) > 0, 'nothing more');
  const { values } = await (registry.getSingleMetric('producer_rest_requests_total') as Counter).get();
  assert.deepEqual(
    values.filter((v) => v.value > 0).map((v) => [v.labels.endpoint, v.labels.result, v.value]),
    [['depth', 'ok', 1]],
  );
});

test('a snapshot waiting for weight is visible to the repairs, and they are told when none waits', async (t) => {
  const server = await serve((_n, res) => res.end(body(4)));
  t.after(() => server.close());
  const budget = new RequestWeightBudget(3000);
  const { logger } = captureLogger();
  const rest = new BinanceRest({ restUrl: server.url, budget, metrics: createProducerMetrics(new Registry()) });
  let told = 0;
  const snapshots = new SnapshotFetcher({
    rest,
    budget,
    depth: 100,
    concurrency: 2,
    backoff: { minMs: 20, maxMs: 100 },
    logger,
    onNoneWaiting: () => told++,
  });
  t.after(() => {
    snapshots.close();
    rest.close();
  });
  budget.block(Date.now() + 300);
  const pending = snapshots.fetch('BTCUSDT');
  await waitUntil('the snapshot waiting for weight', () => snapshots.waitingForBudget === 1);
  assert.equal(server.requests.length, 0);
  assert.equal((await pending).lastUpdateId, 4);
  assert.equal(snapshots.waitingForBudget, 0);
  assert.equal(told, 1);
  assert.ok((server.requests[0]?.at ?? 0) >= Date.now() - 10_000);
});
