import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createClient } from '@clickhouse/client';
import WebSocket from 'ws';
import { migrate } from '@candleflow/common/clickhouse-migrations';
import { testClickhouseUrl, uniqueName, waitUntil } from '@candleflow/common/testing';
import { serverMessageSchema, type StatusMessage } from '../shared/api-types.js';
import type { WebServer } from '../server/web-server.js';
import { windowRowBatches } from './support/fixtures.js';
import { closedPort, TcpProxy } from '@candleflow/common/tcp-proxy';
import { startTestServer } from './support/test-server.js';

async function get(server: WebServer, path: string): Promise<{ status: number; body: unknown }> {
  const response = await fetch(`${server.url}${path}`);
  return { status: response.status, body: await response.json() };
}

/** Subscribes to BTCUSDT and collects the status messages. */
async function watchStatus(server: WebServer): Promise<{ socket: WebSocket; statuses: StatusMessage[] }> {
  const socket = new WebSocket(`${server.url.replace(/^http/, 'ws')}/ws`);
  const statuses: StatusMessage[] = [];
  socket.on('message', (data: Buffer) => {
    const message = serverMessageSchema.parse(JSON.parse(data.toString()));
    if (message.type === 'status') statuses.push(message);
  });
  await new Promise((resolve, reject) => {
    socket.once('open', resolve);
    socket.once('error', reject);
  });
  socket.send(JSON.stringify({ type: 'subscribe', symbol: 'BTCUSDT' }));
  return { socket, statuses };
}

const dataEndpoints = [
  '/api/symbols',
  '/api/windows?symbol=BTCUSDT',
  '/api/windows?symbol=BTCUSDT&from=2024-05-01T12:00:00Z&to=2024-05-01T13:00:00Z',
  '/api/trades?symbol=BTCUSDT',
  '/api/orderbook?symbol=BTCUSDT',
  '/api/quality?symbol=BTCUSDT',
  '/api/quality?symbol=BTCUSDT&from=2024-05-01T12:00:00Z&to=2024-05-01T13:00:00Z',
];

describe('ClickHouse unreachable (a closed port)', () => {
  let server: WebServer;
  before(async () => {
    server = await startTestServer({ clickhouseUrl: `http://127.0.0.1:${await closedPort()}`, database: 'market' });
  });
  after(() => server?.close());

  for (const path of dataEndpoints) {
    test(`${path} is a 503 saying so`, async () => {
      const { status, body } = await get(server, path);
      assert.equal(status, 503);
      assert.match(
        (body as { error: string }).error,
        /^ClickHouse is unavailable: connect ECONNREFUSED 127\.0\.0\.1:\d+$/,
      );
    });
  }

  test('bad input is still a 400: parameters are checked before ClickHouse is asked', async () => {
    assert.equal((await get(server, '/api/windows?symbol=nope')).status, 400);
  });

  test('/health is a 503 naming the problem', async () => {
    const { status, body } = await get(server, '/health');
    assert.equal(status, 503);
    assert.equal((body as { ok: boolean }).ok, false);
    assert.match((body as { checks: { clickhouse: string } }).checks.clickhouse, /ECONNREFUSED/);
  });

  test('the WebSocket tells the page', async () => {
    const { socket, statuses } = await watchStatus(server);
    try {
      const status = await waitUntil('a status message', () => statuses[0], { timeoutMs: 10_000 });
      assert.equal(status.clickhouse, 'down');
      assert.match(status.message, /ECONNREFUSED/);
    } finally {
      socket.close();
    }
  });
});

describe('ClickHouse goes away and comes back', () => {
  const database = uniqueName('web_outage');
  const admin = createClient({ url: testClickhouseUrl });
  const target = new URL(testClickhouseUrl);
  const proxy = new TcpProxy(target.hostname, Number(target.port || 8123));
  let server: WebServer;

  before(async () => {
    await migrate({ url: testClickhouseUrl, database });
    const db = createClient({ url: testClickhouseUrl, database });
    for (const batch of windowRowBatches())
      await db.insert({ table: 'trade_windows', values: batch, format: 'JSONEachRow' });
    await db.close();
    await proxy.start();
    server = await startTestServer({ clickhouseUrl: `http://127.0.0.1:${proxy.port}`, database, pushIntervalMs: 200 });
  });

  after(async () => {
    await server?.close();
    await proxy.stop();
    await admin.command({ query: `DROP DATABASE IF EXISTS ${database}` });
    await admin.close();
  });

  test('the API answers 503 while it is gone and recovers by itself; the WebSocket reports both', async () => {
    const { socket, statuses } = await watchStatus(server);
    try {
      assert.equal((await get(server, '/api/windows?symbol=BTCUSDT')).status, 200);
      await waitUntil('status up', () => statuses.at(-1)?.clickhouse === 'up', { timeoutMs: 10_000 });

      await proxy.stop();
      await waitUntil('a 503', async () => (await get(server, '/api/windows?symbol=BTCUSDT')).status === 503, {
        timeoutMs: 10_000,
      });
      assert.equal((await get(server, '/health')).status, 503);
      await waitUntil('status down', () => statuses.at(-1)?.clickhouse === 'down', { timeoutMs: 10_000 });

      await proxy.start();
      const back = await waitUntil(
        'the windows again',
        async () => {
          const answer = await get(server, '/api/windows?symbol=BTCUSDT');
          return answer.status === 200 ? answer : undefined;
        },
        { timeoutMs: 10_000 },
      );
      assert.equal((back.body as { windows: unknown[] }).windows.length, 90);
      assert.equal((await get(server, '/health')).status, 200);
      await waitUntil('status up again', () => statuses.at(-1)?.clickhouse === 'up', { timeoutMs: 10_000 });
      assert.deepEqual(
        statuses.map((s) => s.clickhouse),
        ['up', 'down', 'up'],
      );
    } finally {
      socket.close();
    }
  });
});
