/**
 * Readers never fail on stored data: rows at time 0 (1970), in 2100, with NaN or
 * infinite values, or with ids beyond 2^53 sit in the tables beside good ones, and every
 * endpoint still answers 200 with the good rows (404 only for a symbol that has nothing
 * else).
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createClient } from '@clickhouse/client';
import WebSocket from 'ws';
import { migrate } from '@candleflow/common/clickhouse-migrations';
import { testClickhouseUrl, uniqueName, waitUntil } from '@candleflow/common/testing';
import { serverMessageSchema, type Candle, type ServerMessage } from '../shared/api-types.js';
import type { WebServer } from '../server/web-server.js';
import type { SnapshotLevelRow, TradeRow, WindowRow } from './support/synthetic-market.js';
import { windowVersion } from './support/synthetic-market.js';
import { candleOfRow } from './support/fixtures.js';
import { startTestServer } from './support/test-server.js';

const database = uniqueName('web_stored');
const db = createClient({ url: testClickhouseUrl, database });
let server: WebServer;

const t0 = Date.UTC(2024, 4, 1, 12, 0, 0);
const year2100 = Date.UTC(2100, 0, 1);

/** A window; prices as strings so that `nan` and `inf` can be written. */
function windowRow(symbol: string, startMs: number, price: number, overrides: Record<string, unknown> = {}) {
  const row: WindowRow = {
    symbol,
    window_start: startMs / 1000,
    open: price,
    high: price + 1,
    low: price - 1,
    close: price + 0.5,
    volume: 2,
    quote_volume: 2 * price,
    vwap: price,
    trades: 3,
    buy_volume: 1.5,
    sell_volume: 0.5,
    first_trade_id: 1,
    last_trade_id: 3,
    is_final: 1,
    version: windowVersion(3, true),
  };
  return { ...row, ...overrides };
}

const btcGood = [0, 1, 2].map((i) => windowRow('BTCUSDT', t0 + i * 10_000, 60_000 + i));
const nanGood = [0, 1].map((i) => windowRow('NANUSDT', t0 + i * 10_000, 100 + i));

function trade(id: number | string, time: number, price: number | string): TradeRow {
  return {
    symbol: 'BTCUSDT',
    trade_id: id as number,
    price: price as number,
    qty: 0.5,
    trade_time_ms: time,
    event_time_ms: time,
    is_buyer_maker: 0,
  };
}

function level(side: 'bid' | 'ask', price: number | string, qty: number | string): SnapshotLevelRow {
  return {
    symbol: 'BTCUSDT',
    last_update_id: 10,
    snapshot_time_ms: t0,
    side,
    price: price as number,
    qty: qty as number,
  };
}

before(async () => {
  await migrate({ url: testClickhouseUrl, database });
  const windows = [
    ...btcGood,
    // A clock at 0 and a far-future typo, with prices that would top every high.
    windowRow('BTCUSDT', 0, 1_000_000),
    windowRow('BTCUSDT', year2100, 2_000_000),
    windowRow('OLDUSDT', 0, 5),
    windowRow('NEWUSDT', year2100, 5),
    ...nanGood,
    windowRow('NANUSDT', t0 + 20_000, 102, { high: 'nan' }),
    windowRow('NANUSDT', t0 + 30_000, 103, { volume: 'inf', quote_volume: '-inf' }),
  ];
  await db.insert({ table: 'trade_windows', values: windows, format: 'JSONEachRow' });
  await db.insert({
    table: 'trades',
    values: [
      trade(100, t0 + 1000, 60_000.5),
      trade(101, t0 + 2000, 60_001.5),
      trade(102, t0 + 3000, 60_002.5),
      trade(1, 0, 1),
      trade(999_999, year2100, 2_000_000),
      trade('18446744073709551615', t0 + 4000, 60_003.5),
      trade(103, t0 + 5000, 'nan'),
    ],
    format: 'JSONEachRow',
  });
  await db.insert({
    table: 'orderbook_snapshots',
    values: [level('bid', 59_999.5, 1), level('bid', 'nan', 2), level('ask', 60_000.5, 'inf'), level('ask', 60_001, 3)],
    format: 'JSONEachRow',
  });
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

test('/api/symbols lists the symbols with readable windows, from those windows only', async () => {
  const { status, body } = await get('/api/symbols');
  assert.equal(status, 200, JSON.stringify(body));
  const symbols = (body as { symbols: { symbol: string; high24h: number; lastWindowStart: number }[] }).symbols;
  assert.deepEqual(
    symbols.map((s) => [s.symbol, s.lastWindowStart, s.high24h]),
    [
      ['BTCUSDT', t0 + 20_000, 60_003],
      // The NaN and infinite windows are left out of the aggregates, not the symbol.
      ['NANUSDT', t0 + 30_000, 102],
    ],
  );
});

test('/api/windows: the range ends at the latest readable window; 1970 and 2100 are left out', async () => {
  const expected = btcGood.map(candleOfRow);
  // From the recent-candle cache (the page's request) and from ClickHouse (an explicit range).
  for (const path of [
    '/api/windows?symbol=BTCUSDT',
    `/api/windows?symbol=BTCUSDT&from=${t0 - 3600_000}&to=${t0 + 3600_000}`,
  ]) {
    const { status, body } = await get(path);
    assert.equal(status, 200, path);
    assert.deepEqual((body as { windows: Candle[] }).windows, expected, path);
  }
  const defaultRange = (await get('/api/windows?symbol=BTCUSDT')).body as { to: number };
  assert.equal(defaultRange.to, t0 + 30_000);
});

test('/api/windows: windows with NaN or infinite values are left out, the others served', async () => {
  for (const path of ['/api/windows?symbol=NANUSDT', `/api/windows?symbol=NANUSDT&from=${t0}&to=${t0 + 60_000}`]) {
    const { status, body } = await get(path);
    assert.equal(status, 200, path);
    assert.deepEqual((body as { windows: Candle[] }).windows, nanGood.map(candleOfRow), path);
  }
});

test('a symbol whose only windows are out of range has no data: 404, not 500', async () => {
  for (const symbol of ['OLDUSDT', 'NEWUSDT']) {
    const { status, body } = await get(`/api/windows?symbol=${symbol}`);
    assert.equal(status, 404, JSON.stringify(body));
    assert.deepEqual(body, { error: `no data for symbol ${symbol}` });
  }
});

test('/api/trades: trades out of range, with NaN or ids past 2^53 are left out', async () => {
  const { status, body } = await get('/api/trades?symbol=BTCUSDT');
  assert.equal(status, 200, JSON.stringify(body));
  assert.deepEqual(
    (body as { trades: { id: number }[] }).trades.map((t) => t.id),
    [102, 101, 100],
  );
});

test('/api/quality: trade ids past 2^53 are left out; a NaN price is still a stored trade', async () => {
  const { status, body } = await get('/api/quality?symbol=BTCUSDT');
  assert.equal(status, 200, JSON.stringify(body));
  assert.deepEqual(body, {
    symbol: 'BTCUSDT',
    from: t0 + 30_000 - 15 * 60_000,
    to: t0 + 30_000,
    tradesStored: 4,
    firstTradeId: 100,
    lastTradeId: 103,
    missingTrades: 0,
    windowsWithMissingTrades: 0,
    repairedTrades: 0,
    depthSyncs: 1,
    complete: true,
  });
});

test('/api/orderbook: levels with unusable numbers are left out', async () => {
  const { status, body } = await get('/api/orderbook?symbol=BTCUSDT');
  assert.equal(status, 200, JSON.stringify(body));
  const book = body as { bids: number[][]; asks: number[][]; lastUpdateId: number };
  assert.deepEqual([book.lastUpdateId, book.bids, book.asks], [10, [[59_999.5, 1]], [[60_001, 3]]]);
});

test('/health and /metrics answer; the rows left out are counted', async () => {
  assert.equal((await get('/health')).status, 200);
  const response = await fetch(`${server.url}/metrics`);
  assert.equal(response.status, 200);
  const skipped = /^web_clickhouse_rows_skipped_total(?:{[^}]*})? (\d+)/m.exec(await response.text())?.[1];
  assert.ok(Number(skipped) > 0, `web_clickhouse_rows_skipped_total ${skipped}`);
});

test('the WebSocket pushes the readable windows and trades', async () => {
  const socket = new WebSocket(`${server.url.replace(/^http/, 'ws')}/ws`);
  const messages: ServerMessage[] = [];
  socket.on('message', (data: Buffer) => messages.push(serverMessageSchema.parse(JSON.parse(data.toString()))));
  try {
    await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
    socket.send(JSON.stringify({ type: 'subscribe', symbol: 'BTCUSDT' }));
    const update = await waitUntil('an update', () => messages.find((m) => m.type === 'update'), {
      timeoutMs: 10_000,
    });
    assert.ok(update.type === 'update');
    assert.deepEqual(update.windows, btcGood.map(candleOfRow));
    assert.deepEqual(
      update.trades?.map((t) => t.id),
      [102, 101, 100],
    );
  } finally {
    socket.close();
  }
});
