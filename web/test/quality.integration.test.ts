/**
 * `/api/quality` and the candles' `missingTrades` on fixture data with known holes (see
 * `qualityRows`): every count exact, duplicates counted once, a repaired window re-sent.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createClient } from '@clickhouse/client';
import WebSocket from 'ws';
import { migrate } from '@candleflow/common/clickhouse-migrations';
import { testClickhouseUrl, uniqueName, waitUntil } from '@candleflow/common/testing';
import { serverMessageSchema, type Candle, type UpdateMessage } from '../shared/api-types.js';
import type { WebServer } from '../server/web-server.js';
import { qualityLatestStart, qualityRepairRows, qualityRows, qualityWindowCount, t0 } from './support/fixtures.js';
import { startTestServer } from './support/test-server.js';

const database = uniqueName('web_quality');
const db = createClient({ url: testClickhouseUrl, database });
let server: WebServer;

before(async () => {
  await migrate({ url: testClickhouseUrl, database });
  const rows = qualityRows();
  await db.insert({ table: 'trades', values: rows.trades, format: 'JSONEachRow' });
  await db.insert({ table: 'trade_windows', values: rows.windows, format: 'JSONEachRow' });
  await db.insert({ table: 'orderbook_snapshots', values: rows.snapshots, format: 'JSONEachRow' });
  server = await startTestServer({ clickhouseUrl: testClickhouseUrl, database, pushIntervalMs: 200 });
});

after(async () => {
  await server?.close();
  await db.command({ query: `DROP DATABASE IF EXISTS ${database}` });
  await db.close();
});

async function get(path: string): Promise<{ status: number; body: unknown }> {
  const response = await fetch(`${server.url}${path}`);
  return { status: response.status, body: await response.json() };
}

const defaultTo = qualityLatestStart + 10_000;

describe('GET /api/quality', () => {
  test('the fixture holds duplicate trade rows (one insert, one part: nothing merged them)', async () => {
    const result = await db.query({ query: 'SELECT toUInt32(count()) AS n FROM trades', format: 'JSONEachRow' });
    assert.deepEqual(await result.json(), [{ n: 702 + 20 + 5 }]);
  });

  test('by default: the 15 minutes ending with the latest window, every count exact', async () => {
    assert.deepEqual(await get('/api/quality?symbol=BTCUSDT'), {
      status: 200,
      body: {
        symbol: 'BTCUSDT',
        from: defaultTo - 15 * 60_000,
        to: defaultTo,
        // 720 ids less the 10 + 5 + 3 missing; window 0 and the repaired ids stored twice count once.
        tradesStored: 702,
        firstTradeId: 1,
        lastTradeId: 720,
        missingTrades: 18,
        // Windows 2 and 30; window 10 was rewritten complete after its repair.
        windowsWithMissingTrades: 2,
        repairedTrades: 5,
        // The snapshot an hour earlier is outside the range.
        depthSyncs: 2,
        complete: false,
      },
    });
  });

  test('a hole across a window edge counts, though no window row sees it', async () => {
    const { body } = await get(`/api/quality?symbol=BTCUSDT&from=${t0 + 40_000}&to=${t0 + 60_000}`);
    assert.deepEqual(body, {
      symbol: 'BTCUSDT',
      from: t0 + 40_000,
      to: t0 + 60_000,
      tradesStored: 17 + 18,
      firstTradeId: 81,
      lastTradeId: 120,
      missingTrades: 5,
      windowsWithMissingTrades: 0,
      repairedTrades: 0,
      depthSyncs: 0,
      complete: false,
    });
  });

  test('a repaired range is complete; its window row first written with a hole does not count', async () => {
    const { body } = await get('/api/quality?symbol=BTCUSDT&from=2024-05-01T12:01:40Z&to=2024-05-01T12:03:20Z');
    assert.deepEqual(body, {
      symbol: 'BTCUSDT',
      from: t0 + 100_000,
      to: t0 + 200_000,
      tradesStored: 200,
      firstTradeId: 201,
      lastTradeId: 400,
      missingTrades: 0,
      windowsWithMissingTrades: 0,
      repairedTrades: 5,
      depthSyncs: 1,
      complete: true,
    });
  });

  test('a hole before the first stored trade of the range does not show', async () => {
    // Window 5 starts with id 103; 98..102 are missing, but nothing in the range says so.
    const { body } = await get(`/api/quality?symbol=BTCUSDT&from=${t0 + 50_000}&to=${t0 + 100_000}`);
    assert.deepEqual(
      [(body as { firstTradeId: number }).firstTradeId, (body as { missingTrades: number }).missingTrades],
      [103, 0],
    );
    assert.equal((body as { complete: boolean }).complete, true);
  });

  test('a range without trades of a known symbol: nothing stored, not complete', async () => {
    const from = t0 + 3600_000;
    assert.deepEqual(await get(`/api/quality?symbol=BTCUSDT&from=${from}&to=${from + 60_000}`), {
      status: 200,
      body: {
        symbol: 'BTCUSDT',
        from,
        to: from + 60_000,
        tradesStored: 0,
        firstTradeId: null,
        lastTradeId: null,
        missingTrades: 0,
        windowsWithMissingTrades: 0,
        repairedTrades: 0,
        depthSyncs: 0,
        complete: false,
      },
    });
  });

  for (const path of ['/api/quality?symbol=XRPUSDT', `/api/quality?symbol=XRPUSDT&from=${t0}&to=${t0 + 60_000}`]) {
    test(`${path} is a 404 naming the symbol`, async () => {
      assert.deepEqual(await get(path), { status: 404, body: { error: 'no data for symbol XRPUSDT' } });
    });
  }

  const badRequests: [string, string][] = [
    ['/api/quality', 'symbol'],
    ['/api/quality?symbol=btcusdt', 'symbol'],
    ['/api/quality?symbol=BTCUSDT&from=yesterday', 'from'],
    ['/api/quality?symbol=BTCUSDT&to=99999999999999', 'to'],
    [`/api/quality?symbol=BTCUSDT&from=${t0}&to=${t0}`, 'to'],
    [`/api/quality?symbol=BTCUSDT&from=${t0}&to=${t0 + 8 * 24 * 3600_000}`, 'from'],
  ];
  for (const [path, parameter] of badRequests) {
    test(`${path} is a 400 naming ${parameter}`, async () => {
      const { status, body } = await get(path);
      assert.equal(status, 400);
      assert.equal((body as { parameter: string }).parameter, parameter);
      assert.match((body as { error: string }).error, new RegExp(`^${parameter}: `));
    });
  }
});

const missingOf = (candles: readonly Candle[]) =>
  candles.filter((c) => c.missingTrades > 0).map((c) => [c.start, c.missingTrades]);

describe('candles carry missingTrades', () => {
  test('in /api/windows answers, from memory and from ClickHouse alike', async () => {
    const expected = [
      [t0 + 20_000, 10],
      [t0 + 300_000, 3],
    ];
    for (const path of [
      '/api/windows?symbol=BTCUSDT',
      // Reaching back past the hours the server keeps: read from ClickHouse as JSON text.
      `/api/windows?symbol=BTCUSDT&from=${t0 - 7 * 3600_000}&to=${defaultTo}`,
    ]) {
      const { status, body } = await get(path);
      assert.equal(status, 200, path);
      const windows = (body as { windows: Candle[] }).windows;
      assert.equal(windows.length, qualityWindowCount, path);
      assert.deepEqual(missingOf(windows), expected, path);
    }
  });

  test('on the WebSocket; a window repaired to none missing is sent again', async () => {
    const socket = new WebSocket(`${server.url.replace(/^http/, 'ws')}/ws`);
    const updates: UpdateMessage[] = [];
    socket.on('message', (data: Buffer) => {
      const message = serverMessageSchema.parse(JSON.parse(data.toString()));
      if (message.type === 'update') updates.push(message);
    });
    try {
      await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
      socket.send(JSON.stringify({ type: 'subscribe', symbol: 'BTCUSDT' }));
      const first = await waitUntil('the first update', () => updates[0], { timeoutMs: 10_000 });
      // The two minutes before the latest window hold window 30.
      assert.deepEqual(missingOf(first.windows), [[t0 + 300_000, 3]]);

      const repair = qualityRepairRows(30);
      const before = updates.length;
      await db.insert({ table: 'trades', values: repair.trades, format: 'JSONEachRow' });
      await db.insert({ table: 'trade_windows', values: [repair.window], format: 'JSONEachRow' });
      const resent = await waitUntil('the repaired window', () =>
        updates.slice(before).find((u) => u.windows.some((w) => w.start === t0 + 300_000)),
      );
      assert.deepEqual(
        resent.windows.map((w) => [w.start, w.trades, w.missingTrades, w.firstTradeId, w.lastTradeId]),
        [[t0 + 300_000, 20, 0, 601, 620]],
      );
      const { body } = await get('/api/quality?symbol=BTCUSDT');
      const { missingTrades, windowsWithMissingTrades, repairedTrades, tradesStored } = body as Record<string, number>;
      assert.deepEqual(
        { missingTrades, windowsWithMissingTrades, repairedTrades, tradesStored },
        { missingTrades: 15, windowsWithMissingTrades: 1, repairedTrades: 8, tradesStored: 705 },
      );
    } finally {
      socket.close();
    }
  });
});
