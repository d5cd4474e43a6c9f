/**
 * The WebSocket under abuse, against the real server: connections per client address,
 * messages per connection, and clients that do not read.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createClient } from '@clickhouse/client';
import WebSocket from 'ws';
import { migrate } from '@candleflow/common/clickhouse-migrations';
import { testClickhouseUrl, uniqueName, waitUntil } from '@candleflow/common/testing';
import type { WebServer } from '../server/web-server.js';
import type { SnapshotLevelRow, TradeRow, WindowRow } from './support/synthetic-market.js';
import { windowVersion } from './support/synthetic-market.js';
import { startTestServer } from './support/test-server.js';

const database = uniqueName('web_ws_limits');
const maxPerIp = 4;
const messageRate = 20;
const maxBufferedBytes = 64 * 1024;
let server: WebServer;
let writing: Promise<void> | undefined;
let stopWriting = false;

/** 1 s windows and a 500-level book: a full update is about 75 KB, so a reader that stops falls behind fast. */
const latestS = Date.UTC(2024, 4, 1, 12, 0, 0) / 1000;

function windowRows(): WindowRow[] {
  return Array.from({ length: 150 }, (_, i) => {
    const open = 60_000.12345678 + i;
    return {
      symbol: 'BTCUSDT',
      window_start: latestS - 149 + i,
      open,
      high: open + 1.5,
      low: open - 1.25,
      close: open + 0.5,
      volume: 1.23456789,
      quote_volume: 74_074.12345678,
      vwap: open + 0.25,
      trades: 12,
      buy_volume: 0.61728394,
      sell_volume: 0.61728395,
      first_trade_id: 1_000_000 + i * 12,
      last_trade_id: 1_000_011 + i * 12,
      is_final: 1,
      version: windowVersion(12, true),
    };
  });
}

function tradeRows(): TradeRow[] {
  return Array.from({ length: 40 }, (_, i) => ({
    symbol: 'BTCUSDT',
    trade_id: 2_000_000 + i,
    price: 60_100.12345678 + i,
    qty: 0.12345678,
    trade_time_ms: latestS * 1000 + i * 10,
    event_time_ms: latestS * 1000 + i * 10,
    is_buyer_maker: (i % 2) as 0 | 1,
  }));
}

function bookRows(): SnapshotLevelRow[] {
  return Array.from({ length: 1000 }, (_, i) => ({
    symbol: 'BTCUSDT',
    last_update_id: 500,
    snapshot_time_ms: latestS * 1000,
    side: i < 500 ? 'bid' : 'ask',
    price: i < 500 ? 60_000.12345678 - i * 0.01 : 60_000.13345678 + (i - 500) * 0.01,
    qty: 1.23456789 + i,
  }));
}

before(async () => {
  await migrate({ url: testClickhouseUrl, database });
  const db = createClient({ url: testClickhouseUrl, database });
  await db.insert({ table: 'trade_windows', values: windowRows(), format: 'JSONEachRow' });
  await db.insert({ table: 'trades', values: tradeRows(), format: 'JSONEachRow' });
  await db.insert({ table: 'orderbook_snapshots', values: bookRows(), format: 'JSONEachRow' });
  // A new trade every 200 ms, so that readers keep getting updates.
  writing = (async () => {
    for (let id = 3_000_000; !stopWriting; id++) {
      const [row] = tradeRows();
      await db.insert({ table: 'trades', values: [{ ...row, trade_id: id }], format: 'JSONEachRow' });
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    await db.close();
  })();
  server = await startTestServer({
    clickhouseUrl: testClickhouseUrl,
    database,
    pushIntervalMs: 100,
    env: {
      WINDOW_SECONDS: '1',
      WEB_WS_MAX_PER_IP: String(maxPerIp),
      WEB_WS_MESSAGE_RATE: String(messageRate),
      WEB_WS_MESSAGE_BURST: String(messageRate),
      WEB_WS_MAX_BUFFERED_BYTES: String(maxBufferedBytes),
    },
  });
});

after(async () => {
  stopWriting = true;
  await writing;
  await server?.close();
  const admin = createClient({ url: testClickhouseUrl });
  await admin.command({ query: `DROP DATABASE IF EXISTS ${database}` });
  await admin.close();
});

/** Opens /ws from `localAddress` (any of 127.0.0.0/8 on Linux); rejects with the HTTP status when refused. */
function open(localAddress: string): Promise<WebSocket> {
  const socket = new WebSocket(`${server.url.replace(/^http/, 'ws')}/ws`, { localAddress });
  return new Promise((resolve, reject) => {
    socket.once('open', () => resolve(socket));
    socket.once('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString()));
      res.on('end', () => reject(Object.assign(new Error(body.trim()), { status: res.statusCode })));
    });
    socket.once('error', reject);
  });
}

function closed(socket: WebSocket): Promise<{ code: number; reason: string }> {
  return new Promise((resolve) => socket.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));
}

async function metric(name: string, labels = ''): Promise<number> {
  const text = await (await fetch(`${server.url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name}{`) && l.includes(labels));
  return Number(line?.split(' ').at(-1) ?? 0);
}

test('one address holds at most WEB_WS_MAX_PER_IP connections; the next are refused with 429', async () => {
  const held = await Promise.all(Array.from({ length: maxPerIp }, () => open('127.0.0.1')));
  try {
    const refusedBefore = await metric('web_ws_refused_total', 'reason="per_ip_limit"');
    const extra = await Promise.allSettled([open('127.0.0.1'), open('127.0.0.1')]);
    for (const outcome of extra) {
      assert.equal(outcome.status, 'rejected');
      const error = outcome.reason as Error & { status?: number };
      assert.equal(error.status, 429);
      assert.equal(error.message, `too many WebSocket connections from 127.0.0.1: at most ${maxPerIp}`);
    }
    assert.equal(await metric('web_ws_refused_total', 'reason="per_ip_limit"'), refusedBefore + 2);

    // Another address is counted on its own.
    const other = await open('127.0.0.2');
    other.close();
    // A connection that ends frees its place.
    const leaving = held.pop();
    leaving?.close();
    if (leaving) await closed(leaving);
    held.push(await waitUntil('a place for 127.0.0.1 again', () => open('127.0.0.1').catch(() => undefined)));
  } finally {
    for (const socket of held) socket.close();
  }
});

test('a connection sending messages past the rate is closed with 1008 and a reason; a normal one is not', async () => {
  const normal = await open('127.0.0.3');
  const flooder = await open('127.0.0.3');
  try {
    const updates: string[] = [];
    normal.on('message', (data: Buffer) => updates.push(data.toString()));
    normal.send(JSON.stringify({ type: 'subscribe', symbol: 'BTCUSDT' }));
    const before = await metric('web_ws_disconnected_total', 'reason="rate_limit"');
    const flood = closed(flooder);
    for (let i = 0; i < messageRate * 3; i++) flooder.send(JSON.stringify({ type: 'subscribe', symbol: 'BTCUSDT' }));
    assert.deepEqual(await flood, {
      code: 1008,
      reason: `too many messages: at most ${messageRate} a second (bursts of ${messageRate})`,
    });
    assert.equal(await metric('web_ws_disconnected_total', 'reason="rate_limit"'), before + 1);
    const seen = updates.length;
    await waitUntil('more updates for the normal client', () => updates.length > seen + 2 || undefined, {
      timeoutMs: 5000,
    });
    assert.equal(normal.readyState, WebSocket.OPEN);
  } finally {
    normal.close();
    flooder.terminate();
  }
});

test('a client that does not read is disconnected once its queue passes the bound', { timeout: 90_000 }, async () => {
  const reader = await open('127.0.0.4');
  const stuck = await open('127.0.0.5');
  const end = closed(stuck);
  const subscribe = JSON.stringify({ type: 'subscribe', symbol: 'BTCUSDT', depth: 500 });
  let received = 0;
  reader.on('message', () => received++);
  reader.send(subscribe);
  const before = await metric('web_ws_disconnected_total', 'reason="send_buffer"');
  // It stops reading but keeps asking: each subscription makes the next push a full update.
  stuck.pause();
  const asking = setInterval(() => stuck.send(subscribe), 1000 / (messageRate * 0.8));
  try {
    await waitUntil(
      'the server to disconnect the client that does not read',
      async () => (await metric('web_ws_disconnected_total', 'reason="send_buffer"')) > before,
      { timeoutMs: 60_000, intervalMs: 250 },
    );
    clearInterval(asking);
    // Once it reads again (if its own writes have not told it yet), the connection is cut without a close frame.
    stuck.resume();
    assert.equal((await end).code, 1006);
    const seen = received;
    await waitUntil('the reading client to keep getting updates', () => received > seen || undefined, {
      timeoutMs: 5000,
    });
    assert.equal(reader.readyState, WebSocket.OPEN);
  } finally {
    clearInterval(asking);
    reader.close();
    stuck.terminate();
  }
});
