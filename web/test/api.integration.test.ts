import assert from 'node:assert/strict';
import http from 'node:http';
import { gunzipSync } from 'node:zlib';
import { after, before, describe, test } from 'node:test';
import { createClient } from '@clickhouse/client';
import WebSocket from 'ws';
import { migrate } from '@candleflow/common/clickhouse-migrations';
import { testClickhouseUrl, uniqueName, waitUntil } from '@candleflow/common/testing';
import { serverMessageSchema, type ServerMessage, type UpdateMessage } from '../shared/api-types.js';
import type { WebServer } from '../server/web-server.js';
import {
  bookRows,
  btcLatestStart,
  btcWindowCount,
  ethLatestStart,
  expectedBook,
  expectedBookAfterResync,
  expectedBtcCandle,
  expectedSymbols,
  expectedTrades,
  resyncRows,
  t0,
  tradeRows,
  windowRowBatches,
} from './support/fixtures.js';
import { standInScript, startTestServer } from './support/test-server.js';

const database = uniqueName('web_api');
const admin = createClient({ url: testClickhouseUrl });
const db = createClient({ url: testClickhouseUrl, database });
let server: WebServer;

before(async () => {
  await migrate({ url: testClickhouseUrl, database });
  for (const batch of windowRowBatches())
    await db.insert({ table: 'trade_windows', values: batch, format: 'JSONEachRow' });
  await db.insert({ table: 'trades', values: tradeRows(), format: 'JSONEachRow' });
  const book = bookRows();
  await db.insert({ table: 'orderbook_snapshots', values: book.snapshots, format: 'JSONEachRow' });
  await db.insert({ table: 'orderbook_updates', values: book.updates, format: 'JSONEachRow' });
  server = await startTestServer({ clickhouseUrl: testClickhouseUrl, database, pushIntervalMs: 200 });
});

after(async () => {
  await server?.close();
  await db.close();
  await admin.command({ query: `DROP DATABASE IF EXISTS ${database}` });
  await admin.close();
});

async function get(path: string): Promise<{ status: number; body: unknown }> {
  const response = await fetch(`${server.url}${path}`);
  return { status: response.status, body: await response.json() };
}

const range = (from: number, to: number) => Array.from({ length: to - from }, (_, k) => from + k);

describe('GET /api/symbols', () => {
  test('lists every symbol with its last price and change over the 24 h of its data', async () => {
    assert.deepEqual(await get('/api/symbols'), {
      status: 200,
      body: { windowSeconds: 10, symbols: expectedSymbols() },
    });
  });
});

describe('GET /api/windows', () => {
  test('by default: the 15 minutes ending with the latest window, rewrites collapsed, oldest first', async () => {
    const { status, body } = await get('/api/windows?symbol=BTCUSDT');
    assert.equal(status, 200);
    assert.deepEqual(body, {
      symbol: 'BTCUSDT',
      from: btcLatestStart + 10_000 - 15 * 60_000,
      to: btcLatestStart + 10_000,
      windowSeconds: 10,
      windows: range(btcWindowCount - 90, btcWindowCount).map(expectedBtcCandle),
    });
  });

  test('from and to in milliseconds: windows overlapping [from, to)', async () => {
    const from = t0 + 25_000; // inside window 2
    const to = t0 + 60_000; // window 6 starts here: excluded
    const { status, body } = await get(`/api/windows?symbol=BTCUSDT&from=${from}&to=${to}`);
    assert.equal(status, 200);
    assert.deepEqual((body as { windows: unknown }).windows, range(2, 6).map(expectedBtcCandle));
  });

  test('from and to as ISO 8601 times, with and without a zone', async () => {
    const iso = await get('/api/windows?symbol=BTCUSDT&from=2024-05-01T12:00:00Z&to=2024-05-01T12:00:30');
    assert.equal(iso.status, 200);
    assert.deepEqual((iso.body as { windows: unknown }).windows, range(0, 3).map(expectedBtcCandle));
    const offset = await get('/api/windows?symbol=BTCUSDT&from=2024-05-01T14:00:00%2B02:00&to=2024-05-01T12:00:20Z');
    assert.deepEqual((offset.body as { windows: unknown }).windows, range(0, 2).map(expectedBtcCandle));
  });

  test('the open window is marked, the one rewritten after closing is final', async () => {
    const { body } = await get(`/api/windows?symbol=BTCUSDT&from=${btcLatestStart - 10_000}`);
    const windows = (body as { windows: { isFinal: boolean; close: number; trades: number }[] }).windows;
    assert.deepEqual(
      windows.map((w) => [w.isFinal, w.close, w.trades]),
      [
        [true, 60_118.5, 128],
        [false, 60_119.5, 129],
      ],
    );
  });

  test('a range with no windows of a known symbol is empty, not missing', async () => {
    const { status, body } = await get(`/api/windows?symbol=ETHUSDT&from=${t0}&to=${t0 + 60_000}`);
    assert.equal(status, 200);
    assert.deepEqual((body as { windows: unknown }).windows, []);
  });

  test('ranges further back than the recent hours the server keeps come from ClickHouse alike', async () => {
    const day = 24 * 3600_000;
    const { status, body } = await get(
      `/api/windows?symbol=ETHUSDT&from=${ethLatestStart - day - 10_000}&to=${ethLatestStart - day + 20_000}`,
    );
    assert.equal(status, 200);
    assert.deepEqual(
      (body as { windows: { start: number; open: number }[] }).windows.map((w) => [w.start, w.open]),
      [
        [ethLatestStart - day - 10_000, 1000],
        [ethLatestStart - day, 1500],
        [ethLatestStart - day + 10_000, 2000],
      ],
    );
  });

  test('without `to`, a symbol whose data ended earlier still gets its last 15 minutes', async () => {
    const { body } = await get('/api/windows?symbol=ETHUSDT');
    const windows = (body as { windows: { start: number; close: number }[] }).windows;
    assert.deepEqual(
      windows.map((w) => [w.start, w.close]),
      [[ethLatestStart, 2100]],
    );
  });
});

describe('GET /api/trades', () => {
  test('the latest trades, newest first, each once', async () => {
    assert.deepEqual(await get('/api/trades?symbol=BTCUSDT&limit=3'), {
      status: 200,
      body: { symbol: 'BTCUSDT', trades: expectedTrades(3) },
    });
  });

  test('reaches past the recent windows when they hold fewer trades than asked for', async () => {
    const { body } = await get('/api/trades?symbol=BTCUSDT&limit=50');
    assert.deepEqual((body as { trades: unknown }).trades, expectedTrades(50));
    assert.equal(expectedTrades(50).length, 11);
  });

  test('a known symbol without trades has an empty list', async () => {
    assert.deepEqual(await get('/api/trades?symbol=ETHUSDT'), { status: 200, body: { symbol: 'ETHUSDT', trades: [] } });
  });
});

describe('GET /api/orderbook', () => {
  test('the book rebuilt from the latest snapshot and the updates after it', async () => {
    const { status, body } = await get('/api/orderbook?symbol=BTCUSDT&depth=20');
    assert.equal(status, 200);
    const { checkedAt, ...book } = body as { checkedAt: number };
    assert.deepEqual(book, expectedBook);
    assert.ok(Date.now() - checkedAt < 2000, `book checked ${Date.now() - checkedAt} ms ago`);
  });

  test('depth limits the levels per side', async () => {
    const { body } = await get('/api/orderbook?symbol=BTCUSDT&depth=1');
    const { bids, asks } = body as { bids: unknown[]; asks: unknown[] };
    assert.deepEqual([bids, asks], [expectedBook.bids.slice(0, 1), expectedBook.asks.slice(0, 1)]);
  });

  test('after a resync the book starts over from the new snapshot', async () => {
    const rows = resyncRows();
    await db.insert({ table: 'orderbook_snapshots', values: rows.snapshots, format: 'JSONEachRow' });
    await db.insert({ table: 'orderbook_updates', values: rows.updates, format: 'JSONEachRow' });
    const book = await waitUntil(
      'the book to reach update 201',
      async () => {
        const { body } = await get('/api/orderbook?symbol=BTCUSDT');
        return (body as { lastUpdateId: number }).lastUpdateId === 201 ? body : undefined;
      },
      { timeoutMs: 10_000 },
    );
    const { checkedAt: _checked, ...rest } = book as { checkedAt: number };
    assert.deepEqual(rest, expectedBookAfterResync);
  });
});

describe('bad requests', () => {
  const cases: [string, string][] = [
    ['/api/windows', 'symbol'],
    ['/api/windows?symbol=btcusdt', 'symbol'],
    ['/api/windows?symbol=B', 'symbol'],
    ['/api/windows?symbol=ABCDEFGHIJKLMNOPQRSTU', 'symbol'],
    ["/api/windows?symbol=BTC'%20OR%201=1--", 'symbol'],
    ['/api/windows?symbol=BTCUSDT&symbol=ETHUSDT', 'symbol'],
    ['/api/windows?symbol=BTCUSDT&from=yesterday', 'from'],
    ['/api/windows?symbol=BTCUSDT&from=1.5', 'from'],
    ['/api/windows?symbol=BTCUSDT&from=-1000', 'from'],
    ['/api/windows?symbol=BTCUSDT&from=1000', 'from'],
    ['/api/windows?symbol=BTCUSDT&from=2024-13-45T00:00:00Z', 'from'],
    ['/api/windows?symbol=BTCUSDT&to=99999999999999', 'to'],
    [`/api/windows?symbol=BTCUSDT&from=${t0}&to=${t0}`, 'to'],
    [`/api/windows?symbol=BTCUSDT&from=${t0}&to=${t0 - 1}`, 'to'],
    [`/api/windows?symbol=BTCUSDT&from=${t0}&to=${t0 + 8 * 24 * 3600_000}`, 'from'],
    ['/api/trades?symbol=BTCUSDT&limit=0', 'limit'],
    ['/api/trades?symbol=BTCUSDT&limit=1001', 'limit'],
    ['/api/trades?symbol=BTCUSDT&limit=ten', 'limit'],
    ['/api/trades?symbol=BTCUSDT&limit=5;DROP', 'limit'],
    ['/api/trades?symbol=%00BTC', 'symbol'],
    ['/api/orderbook?symbol=BTCUSDT&depth=501', 'depth'],
    ['/api/orderbook?symbol=BTCUSDT&depth=-1', 'depth'],
    ['/api/orderbook?symbol=BTC%27USDT', 'symbol'],
  ];
  for (const [path, parameter] of cases) {
    test(`${path} is a 400 naming ${parameter}`, async () => {
      const { status, body } = await get(path);
      assert.equal(status, 400);
      const { error, parameter: named } = body as { error: string; parameter: string };
      assert.equal(named, parameter);
      assert.match(error, new RegExp(`^${parameter}: `));
    });
  }
});

describe('unknown things', () => {
  for (const path of [
    '/api/windows?symbol=XRPUSDT',
    `/api/windows?symbol=XRPUSDT&from=${t0}&to=${t0 + 60_000}`,
    '/api/trades?symbol=XRPUSDT',
    '/api/orderbook?symbol=XRPUSDT',
    '/api/orderbook?symbol=ETHUSDT',
  ]) {
    test(`${path} is a 404 naming the symbol`, async () => {
      const { status, body } = await get(path);
      assert.equal(status, 404);
      assert.match((body as { error: string }).error, /(XRPUSDT|ETHUSDT)$/);
    });
  }

  test('an unknown endpoint is a 404', async () => {
    const { status, body } = await get('/api/candles?symbol=BTCUSDT');
    assert.equal(status, 404);
    assert.deepEqual(body, { error: 'no such endpoint: GET /api/candles' });
  });
});

describe('operations endpoints', () => {
  test('/health reports ClickHouse reachable', async () => {
    assert.deepEqual(await get('/health'), { status: 200, body: { ok: true, checks: { clickhouse: 'reachable' } } });
  });

  test('/metrics counts the requests made', async () => {
    const text = await (await fetch(`${server.url}/metrics`)).text();
    assert.match(
      text,
      /web_http_request_duration_seconds_count\{[^}]*route="\/api\/windows"[^}]*status="200"[^}]*\} [1-9]/,
    );
    assert.match(text, /web_http_request_duration_seconds_count\{[^}]*status="400"[^}]*\} [1-9]/);
    assert.match(text, /web_clickhouse_query_duration_seconds_count\{[^}]*outcome="ok"[^}]*\} [1-9]/);
  });

  test('assets go gzipped to browsers that accept it, as they are to others', async () => {
    const fetchRaw = (encoding: string) =>
      new Promise<{ headers: http.IncomingHttpHeaders; body: Buffer }>((resolve, reject) => {
        http
          .get(`${server.url}/assets/app-1234.js`, { headers: { 'accept-encoding': encoding } }, (response) => {
            const chunks: Buffer[] = [];
            response.on('data', (chunk: Buffer) => chunks.push(chunk));
            response.on('end', () => resolve({ headers: response.headers, body: Buffer.concat(chunks) }));
          })
          .on('error', reject);
      });
    const gzipped = await fetchRaw('gzip, deflate, br');
    assert.equal(gzipped.headers['content-encoding'], 'gzip');
    assert.match(gzipped.headers['content-type'] ?? '', /javascript/);
    assert.match(gzipped.headers['cache-control'] ?? '', /immutable/);
    assert.equal(gunzipSync(gzipped.body).toString(), standInScript);
    assert.ok(gzipped.body.length < standInScript.length / 5);
    const plain = await fetchRaw('identity');
    assert.equal(plain.headers['content-encoding'], undefined);
    assert.equal(plain.body.toString(), standInScript);
  });

  test('large /api/windows answers go gzipped to clients that accept it; small ones as they are', async () => {
    const fetchRaw = (path: string, encoding: string) =>
      new Promise<{ headers: http.IncomingHttpHeaders; body: Buffer }>((resolve, reject) => {
        http
          .get(`${server.url}${path}`, { headers: { 'accept-encoding': encoding } }, (response) => {
            const chunks: Buffer[] = [];
            response.on('data', (chunk: Buffer) => chunks.push(chunk));
            response.on('end', () => resolve({ headers: response.headers, body: Buffer.concat(chunks) }));
          })
          .on('error', reject);
      });
    // All 120 windows (about 36 KB of JSON), from ClickHouse (a range reaching back past the
    // hours the server keeps) and from the recent-candle cache.
    for (const path of [
      `/api/windows?symbol=BTCUSDT&from=${t0 - 7 * 3600_000}&to=${btcLatestStart + 10_000}`,
      `/api/windows?symbol=BTCUSDT&from=${t0}`,
    ]) {
      const plain = await fetchRaw(path, 'identity');
      assert.equal(plain.headers['content-encoding'], undefined, path);
      const windows = (JSON.parse(plain.body.toString()) as { windows: unknown[] }).windows;
      assert.deepEqual(windows, range(0, btcWindowCount).map(expectedBtcCandle), path);
      const gzipped = await fetchRaw(path, 'gzip, deflate, br');
      assert.equal(gzipped.headers['content-encoding'], 'gzip', path);
      assert.match(gzipped.headers.vary ?? '', /accept-encoding/i);
      assert.equal(gunzipSync(gzipped.body).toString(), plain.body.toString(), path);
      assert.ok(gzipped.body.length < plain.body.length / 4, `${gzipped.body.length} of ${plain.body.length} bytes`);
    }
    const small = await fetchRaw(`/api/windows?symbol=BTCUSDT&from=${t0}&to=${t0 + 30_000}`, 'gzip');
    assert.equal(small.headers['content-encoding'], undefined);
    assert.deepEqual(
      (JSON.parse(small.body.toString()) as { windows: unknown[] }).windows,
      range(0, 3).map(expectedBtcCandle),
    );
  });

  test('the page is served at /', async () => {
    const response = await fetch(`${server.url}/`);
    assert.equal(response.status, 200);
    assert.match(await response.text(), /<title>candleflow<\/title>/);
  });
});

/** A WebSocket client that keeps every message it receives. */
async function openSocket(): Promise<{ socket: WebSocket; messages: ServerMessage[]; raw: string[] }> {
  const socket = new WebSocket(`${server.url.replace(/^http/, 'ws')}/ws`);
  const messages: ServerMessage[] = [];
  const raw: string[] = [];
  socket.on('message', (data: Buffer) => {
    raw.push(data.toString());
    messages.push(serverMessageSchema.parse(JSON.parse(data.toString())));
  });
  await new Promise((resolve, reject) => {
    socket.once('open', resolve);
    socket.once('error', reject);
  });
  return { socket, messages, raw };
}

describe('WebSocket /ws', () => {
  test('pushes the recent windows, trades and book, then only what changes', async () => {
    const { socket, messages } = await openSocket();
    try {
      socket.send(JSON.stringify({ type: 'subscribe', symbol: 'BTCUSDT', depth: 2 }));
      const updates = () => messages.filter((m): m is UpdateMessage => m.type === 'update');
      const first = await waitUntil('the first update', () => updates()[0], { timeoutMs: 10_000 });
      // The last two minutes before the latest window, and the latest window itself.
      assert.deepEqual(first.windows, range(btcWindowCount - 13, btcWindowCount).map(expectedBtcCandle));
      assert.deepEqual(first.trades, expectedTrades(30));
      assert.deepEqual(first.book?.bids, expectedBookAfterResync.bids.slice(0, 2));
      assert.equal(first.book?.lastUpdateId, 201);
      assert.ok(messages.some((m) => m.type === 'status' && m.clickhouse === 'up'));

      const rewritten = { ...expectedBtcCandle(btcWindowCount - 1), close: 60_200.5, high: 60_200.5, trades: 200 };
      const next = { ...expectedBtcCandle(btcWindowCount - 1), start: btcLatestStart + 10_000, trades: 1 };
      const row = (c: typeof rewritten, isFinal: boolean) => ({
        symbol: 'BTCUSDT',
        window_start: c.start / 1000,
        open: c.open,
        high: c.high,
        low: c.low,
        close: c.close,
        volume: c.volume,
        quote_volume: c.quoteVolume,
        vwap: c.vwap,
        trades: c.trades,
        buy_volume: c.buyVolume,
        sell_volume: c.sellVolume,
        first_trade_id: c.firstTradeId,
        last_trade_id: c.lastTradeId,
        is_final: isFinal ? 1 : 0,
        version: (isFinal ? 2 ** 32 : 0) + c.trades,
      });
      const before = updates().length;
      await db.insert({
        table: 'trade_windows',
        values: [row({ ...rewritten, isFinal: true }, true), row(next, false)],
        format: 'JSONEachRow',
      });
      const change = await waitUntil('an update with the new windows', () =>
        updates()
          .slice(before)
          .find((u) => u.windows.length > 0),
      );
      assert.deepEqual(change.windows, [{ ...rewritten, isFinal: true }, next]);
      assert.equal(change.trades, null, 'no new trade, so no trades');
      assert.equal(change.book, null, 'the book did not move');
      // The API serves recent candles from memory, at most two seconds behind ClickHouse.
      const latestTwo = await waitUntil(
        'the API to show the new windows',
        async () => {
          const { body } = await get('/api/windows?symbol=BTCUSDT');
          const windows = (body as { windows: unknown[] }).windows.slice(-2);
          return JSON.stringify(windows) === JSON.stringify(change.windows) ? windows : undefined;
        },
        { timeoutMs: 3000 },
      );
      assert.deepEqual(latestTwo, [{ ...rewritten, isFinal: true }, next]);
    } finally {
      socket.close();
    }
  });

  test('refuses a malformed subscription, or a symbol without data, with a message naming the problem', async () => {
    const { socket, messages } = await openSocket();
    try {
      socket.send(JSON.stringify({ type: 'subscribe', symbol: 'btc usdt' }));
      socket.send('not json');
      socket.send(JSON.stringify({ type: 'subscribe', symbol: 'BTCUSDT', depth: 5000 }));
      socket.send(JSON.stringify({ type: 'subscribe', symbol: 'XRPUSDT' }));
      const errors = await waitUntil('four error messages', () => {
        const found = messages.flatMap((m) => (m.type === 'error' ? [m.message] : []));
        return found.length >= 4 ? found : undefined;
      });
      const example = '{"type":"subscribe","symbol":"BTCUSDT","depth":20}';
      assert.deepEqual(errors, [
        `symbol: expected 2-20 upper-case letters or digits, e.g. BTCUSDT; expected ${example}`,
        `not JSON; expected ${example}`,
        `depth: Too big: expected number to be <=500; expected ${example}`,
        'no data for symbol XRPUSDT',
      ]);
      // The socket still works: a good subscription after the bad ones is followed.
      socket.send(JSON.stringify({ type: 'subscribe', symbol: 'ETHUSDT' }));
      const update = await waitUntil('an update', () => messages.find((m) => m.type === 'update'));
      assert.equal(update.type === 'update' ? update.symbol : '', 'ETHUSDT');
    } finally {
      socket.close();
    }
  });
});
