import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { waitUntil } from '@candleflow/common/testing';
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

function fetcher(restUrl: string, overrides: { concurrency?: number; weightPerMinute?: number } = {}) {
  const { logger, lines } = captureLogger();
  const snapshots = new SnapshotFetcher({
    restUrl,
    concurrency: overrides.concurrency ?? 2,
    weightPerMinute: overrides.weightPerMinute ?? 3000,
    backoff: { minMs: 20, maxMs: 100 },
    logger,
  });
  return { snapshots, logs: lines };
}

test('asks for the 1000-level book of the symbol and returns it with the receive time', async (t) => {
  const server = await serve((_n, res) => res.end(body(42)));
  t.after(() => server.close());
  const { snapshots } = fetcher(server.url);
  t.after(() => snapshots.close());
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
  const { snapshots, logs } = fetcher(server.url);
  t.after(() => snapshots.close());
  const snapshot = await snapshots.fetch('ETHUSDT');
  assert.equal(snapshot.lastUpdateId, 7);
  const [first, second] = server.requests;
  assert.ok(first && second && second.at - first.at >= 1000, 'the second request waited for Retry-After');
  assert.ok(logs.some((l) => /HTTP 429 \(request weight exceeded\), pausing snapshots for 1s/.test(l.msg)));
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
  const { snapshots, logs } = fetcher(server.url);
  t.after(() => snapshots.close());
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
  const { snapshots } = fetcher(server.url, { concurrency: 2 });
  t.after(() => snapshots.close());
  const results = await Promise.all(['A', 'B', 'C', 'D', 'E', 'F'].map((s) => snapshots.fetch(`${s}USDT`)));
  assert.equal(results.length, 6);
  assert.equal(inFlight.max, 2);
});

test('close() ends a fetch that is still waiting for the exchange', async (t) => {
  const held: http.ServerResponse[] = [];
  const server = await serve((_n, res) => held.push(res));
  t.after(() => server.close());
  t.after(() => held.forEach((res) => res.destroy()));
  const { snapshots } = fetcher(server.url);
  const pending = snapshots.fetch('BTCUSDT');
  await waitUntil('the request to arrive', () => held.length === 1);
  snapshots.close();
  await assert.rejects(pending, { name: 'AbortError' });
});
