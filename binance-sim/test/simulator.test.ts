import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import {
  depthSnapshotBodySchema,
  depthUpdateEventSchema,
  tradeEventSchema,
  type DepthUpdateEvent,
} from '@candleflow/common/binance-events';
import { canonicalDecimal } from '@candleflow/common/decimal';
import { OrderBook } from '@candleflow/common/order-book';
import { waitUntil } from '@candleflow/common/testing';
import { startSimulator, type Simulator } from '../src/simulator.js';
import { StreamClient } from './stream-client.js';

const open: { sims: Simulator[]; clients: StreamClient[] } = { sims: [], clients: [] };
after(async () => {
  await Promise.all(open.clients.map((c) => c.close()));
  await Promise.all(open.sims.map((s) => s.close()));
});

async function sim(
  symbols: string[],
  rate: number,
  extra: { maxMessages?: number; pingIntervalMs?: number; maxConnectionMs?: number } = {},
): Promise<Simulator> {
  const { maxMessages, ...rest } = extra;
  const s = await startSimulator({
    port: 0,
    source: { kind: 'synthetic', symbols, rate, seed: 3, maxMessages },
    ...rest,
  });
  open.sims.push(s);
  return s;
}

async function connect(s: Simulator, streams: string[], autoPong = true): Promise<StreamClient> {
  const c = await StreamClient.combined(s.wsUrl, streams, { autoPong });
  open.clients.push(c);
  return c;
}

test('combined-stream frames carry Binance trade and depth events for exactly the subscribed streams', async () => {
  const s = await sim(['BTCUSDT', 'ETHUSDT'], 1000, { maxMessages: 400 });
  assert.match(s.wsUrl, /^ws:\/\/127\.0\.0\.1:\d+$/);
  assert.equal(s.restUrl, s.wsUrl.replace('ws:', 'http:'));
  const sent: string[] = [];
  s.on('sent', (stream) => sent.push(stream));
  const c = await connect(s, ['btcusdt@trade', 'btcusdt@depth@100ms', 'ethusdt@kline_1m', 'nosuch@trade']);
  await waitUntil('400 frames', () => c.frames.length >= 400, { describe: () => `${c.frames.length} frames` });
  await waitUntil('the simulator to stop at maxMessages', () => s.stats().trades + s.stats().depth === 400);
  assert.equal(c.frames.length, 400);
  assert.deepEqual(
    sent,
    c.frames.map((f) => f.stream),
    "'sent' reports every frame, in send order",
  );
  assert.deepEqual(new Set(c.frames.map((f) => f.stream)), new Set(['btcusdt@trade', 'btcusdt@depth@100ms']));
  const trades = c.framesOf('btcusdt@trade').map((d) => tradeEventSchema.parse(d));
  const diffs = c.framesOf('btcusdt@depth@100ms').map((d) => depthUpdateEventSchema.parse(d));
  assert.equal(s.stats().trades, trades.length);
  assert.equal(s.stats().depth, diffs.length);
  assert.ok(diffs.length >= 3, `${diffs.length} diffs`);
  trades.forEach((t, i) => {
    assert.equal(t.s, 'BTCUSDT');
    if (i > 0) assert.equal(t.t, (trades[i - 1]?.t ?? 0) + 1, 'trade ids increase by 1');
  });
  diffs.forEach((d, i) => {
    if (i > 0) assert.equal(d.U, (diffs[i - 1]?.u ?? 0) + 1, 'U = previous u + 1');
  });
  const now = Date.now();
  assert.ok(Math.abs((trades[0]?.T ?? 0) - now) < 60_000, 'T is wall-clock ms');
});

test('a REST snapshot plus the diffs after it (Binance procedure) rebuilds exactly the true book', async () => {
  const s = await sim(['BTCUSDT', 'ETHUSDT'], 400, { maxMessages: 40 });
  const afterDiff = new Map<number, OrderBook>();
  s.on('depth', (event: DepthUpdateEvent, book: OrderBook) => afterDiff.set(event.u, book));
  const c = await connect(s, ['ethusdt@depth@100ms']);
  await waitUntil('a few buffered diffs', () => c.frames.length >= 3);
  const response = await fetch(`${s.restUrl}/api/v3/depth?symbol=ETHUSDT&limit=1000`);
  assert.equal(response.status, 200);
  const snapshot = depthSnapshotBodySchema.parse(await response.json());
  await waitUntil('every frame', () => c.frames.length === 40 && s.stats().depth === 40, {
    describe: () => `${c.frames.length} frames, ${JSON.stringify(s.stats())}`,
  });

  const book = new OrderBook('ETHUSDT');
  book.loadSnapshot(snapshot.lastUpdateId, snapshot.bids, snapshot.asks);
  const diffs = c.framesOf('ethusdt@depth@100ms').map((d) => depthUpdateEventSchema.parse(d));
  const toApply = diffs.filter((d) => d.u > snapshot.lastUpdateId);
  const first = toApply[0];
  assert.ok(first, 'diffs after the snapshot arrive');
  assert.ok(
    first.U <= snapshot.lastUpdateId + 1 && snapshot.lastUpdateId + 1 <= first.u,
    'first diff bridges the snapshot',
  );
  let previousU = snapshot.lastUpdateId;
  for (const d of toApply) {
    assert.ok(d.U <= previousU + 1, `no gap before ${d.U}`);
    book.applyDiff(d.u, d.b, d.a);
    previousU = d.u;
    assert.deepEqual(book.levels(), afterDiff.get(d.u)?.levels(), `book after diff ${d.u}`);
  }
  const truth = s.book('ETHUSDT');
  assert.equal(book.lastUpdateId, truth.lastUpdateId);
  assert.deepEqual(book.levels(), truth.levels());
  assert.equal(s.stats().snapshots, 1);
});

test('skipNextDiff makes exactly one gap, the size of the skipped diff', async () => {
  const s = await sim(['BTCUSDT'], 100, { maxMessages: 30 });
  const skipped: DepthUpdateEvent[] = [];
  s.on('skipped', (e: DepthUpdateEvent) => skipped.push(e));
  const c = await connect(s, ['btcusdt@depth@100ms']);
  await waitUntil('a few diffs', () => c.frames.length >= 5);
  s.skipNextDiff('BTCUSDT');
  await waitUntil('every frame', () => c.frames.length === 30);
  const diffs = c.framesOf('btcusdt@depth@100ms').map((d) => depthUpdateEventSchema.parse(d));
  const gaps = diffs.slice(1).filter((d, i) => d.U !== (diffs[i]?.u ?? 0) + 1);
  assert.equal(skipped.length, 1);
  assert.equal(gaps.length, 1);
  const before = diffs[diffs.indexOf(gaps[0] as DepthUpdateEvent) - 1];
  assert.equal(skipped[0]?.U, (before?.u ?? 0) + 1);
  assert.equal(gaps[0]?.U, (skipped[0]?.u ?? 0) + 1);
  assert.throws(() => s.skipNextDiff('NOPEUSDT'), /unknown symbol/);
});

test('dropConnections cuts every client; new clients get data again', async () => {
  const s = await sim(['BTCUSDT', 'ETHUSDT'], 200);
  const a = await connect(s, ['btcusdt@trade']);
  const b = await connect(s, ['ethusdt@depth@100ms']);
  await waitUntil('both connected', () => s.stats().connections === 2);
  s.dropConnections();
  assert.equal(await a.whenClosed(), 1006);
  assert.equal(await b.whenClosed(), 1006);
  assert.equal(s.stats().connections, 0);
  const c = await connect(s, ['btcusdt@trade']);
  await waitUntil('frames on a new connection', () => c.frames.length > 0);
});

test('the control endpoints drop connections, skip a diff and report stats over HTTP', async () => {
  const s = await sim(['BTCUSDT'], 100);
  const skipped: DepthUpdateEvent[] = [];
  s.on('skipped', (e: DepthUpdateEvent) => skipped.push(e));
  const a = await connect(s, ['btcusdt@depth@100ms']);
  await waitUntil('a diff', () => a.frames.length > 0);
  const skip = await fetch(`${s.restUrl}/sim/skip-diff?symbol=BTCUSDT`, { method: 'POST' });
  assert.equal(skip.status, 200);
  await waitUntil('the skipped diff', () => skipped.length === 1);
  const unknown = await fetch(`${s.restUrl}/sim/skip-diff?symbol=NOPEUSDT`, { method: 'POST' });
  assert.equal(unknown.status, 400);
  assert.deepEqual(await unknown.json(), { code: -1121, msg: 'Invalid symbol.' });
  const stats = (await (await fetch(`${s.restUrl}/sim/stats`)).json()) as Record<string, unknown>;
  assert.equal(stats.connections, 1);
  assert.ok(typeof stats.depth === 'number' && stats.depth > 0);
  const drop = await fetch(`${s.restUrl}/sim/drop-connections`, { method: 'POST' });
  assert.deepEqual(await drop.json(), { dropped: 1 });
  assert.equal(await a.whenClosed(), 1006);
  assert.equal((await fetch(`${s.restUrl}/sim/drop-connections`)).status, 405);
});

test('REST: depth limits and errors, ticker, ping, as Binance answers them', async () => {
  const s = await sim(['BTCUSDT', 'ETHUSDT'], 100);
  const get = async (path: string): Promise<{ status: number; body: unknown }> => {
    const r = await fetch(`${s.restUrl}${path}`);
    return { status: r.status, body: await r.json() };
  };
  assert.deepEqual(await get('/api/v3/ping'), { status: 200, body: {} });
  const five = await get('/api/v3/depth?symbol=BTCUSDT&limit=5');
  const body = depthSnapshotBodySchema.parse(five.body);
  assert.equal(body.bids.length, 5);
  assert.equal(body.asks.length, 5);
  // No client has subscribed, so the market has not moved since the snapshot.
  const truth = s.book('BTCUSDT');
  assert.equal(body.lastUpdateId, truth.lastUpdateId);
  const canonical = (levels: [string, string][]): [string, string][] =>
    levels.map(([p, q]) => [canonicalDecimal(p), canonicalDecimal(q)]);
  assert.deepEqual(canonical(body.bids), truth.top('bid', 5));
  assert.deepEqual(canonical(body.asks), truth.top('ask', 5));
  const byDefault = depthSnapshotBodySchema.parse((await get('/api/v3/depth?symbol=BTCUSDT')).body);
  assert.equal(byDefault.bids.length, Math.min(100, s.book('BTCUSDT').bids.size));
  assert.deepEqual(await get('/api/v3/depth?symbol=XXXUSDT'), {
    status: 400,
    body: { code: -1121, msg: 'Invalid symbol.' },
  });
  assert.deepEqual(await get('/api/v3/depth?symbol=btc usdt'), {
    status: 400,
    body: { code: -1121, msg: 'Invalid symbol.' },
  });
  const badLimit = await get('/api/v3/depth?symbol=BTCUSDT&limit=7');
  assert.equal(badLimit.status, 400);
  assert.equal((badLimit.body as { code: number }).code, -1100);
  assert.equal((await get('/api/v3/depth')).status, 400);
  const tickers = (await get('/api/v3/ticker/24hr')).body as { symbol: string; lastPrice: string }[];
  assert.deepEqual(
    tickers.map((t) => t.symbol),
    ['BTCUSDT', 'ETHUSDT'],
  );
  for (const t of tickers) {
    for (const field of ['lastPrice', 'priceChangePercent', 'quoteVolume']) assert.ok(field in t, field);
  }
  const one = await get('/api/v3/ticker/24hr?symbol=ETHUSDT');
  assert.equal((one.body as { symbol: string }).symbol, 'ETHUSDT');
  assert.equal((await get('/api/v3/ticker/24hr?symbol=NOPEUSDT')).status, 400);
  assert.equal((await get('/api/v3/nothing')).status, 404);
});

test('the server pings; a client that never pongs is cut, one that does stays', async () => {
  const s = await sim(['BTCUSDT'], 50, { pingIntervalMs: 300 });
  let pings = 0;
  const polite = await connect(s, ['btcusdt@trade']);
  polite.socket.on('ping', () => pings++);
  const mute = await connect(s, ['btcusdt@trade'], false);
  assert.equal(await mute.whenClosed(), 1006);
  await waitUntil('a few pings', () => pings >= 3);
  assert.equal(polite.closeCode, undefined);
  assert.equal(s.stats().connections, 1);
});

test('maxConnectionMs closes each connection after its lifetime', async () => {
  const s = await sim(['BTCUSDT'], 50, { maxConnectionMs: 300 });
  const connecting = performance.now();
  const c = await connect(s, ['btcusdt@trade']);
  assert.equal(await c.whenClosed(), 1000);
  assert.ok(performance.now() - connecting >= 300);
});

test('raw /ws streams and live SUBSCRIBE / UNSUBSCRIBE / LIST_SUBSCRIPTIONS', async () => {
  const s = await sim(['BTCUSDT', 'ETHUSDT'], 200);
  const { WebSocket } = await import('ws');
  const raw = new WebSocket(`${s.wsUrl}/ws/ethusdt@trade`);
  const messages: unknown[] = [];
  raw.on('message', (d) => messages.push(JSON.parse(String(d))));
  await waitUntil('raw trades', () => messages.length >= 3);
  raw.close();
  assert.equal(tradeEventSchema.parse(messages[0]).s, 'ETHUSDT');

  const c = await connect(s, []);
  const replies: unknown[] = [];
  c.socket.removeAllListeners('message');
  c.socket.on('message', (d) => {
    const value = JSON.parse(String(d)) as Record<string, unknown>;
    if ('id' in value) replies.push(value);
    else c.frames.push(value as { stream: string; data: unknown });
  });
  c.socket.send(JSON.stringify({ method: 'SUBSCRIBE', params: ['btcusdt@depth@100ms', 'bad@stream'], id: 1 }));
  await waitUntil('subscribed frames', () => c.frames.length >= 2);
  assert.ok(c.frames.every((f) => f.stream === 'btcusdt@depth@100ms'));
  c.socket.send(JSON.stringify({ method: 'LIST_SUBSCRIPTIONS', id: 2 }));
  c.socket.send(JSON.stringify({ method: 'UNSUBSCRIBE', params: ['btcusdt@depth@100ms'], id: 3 }));
  c.socket.send('not json');
  await waitUntil('replies', () => replies.length === 4);
  assert.deepEqual(replies, [
    { result: null, id: 1 },
    { result: ['btcusdt@depth@100ms'], id: 2 },
    { result: null, id: 3 },
    { error: { code: 3, msg: 'Invalid JSON' }, id: null },
  ]);
});

test('back-pressure: a client that stops reading halts generation, and then gets every frame in order', async () => {
  const s = await sim(['BTCUSDT'], 200_000);
  const sentIds: number[] = [];
  s.on('sent', (stream: string, data: unknown) => {
    if (stream === 'btcusdt@trade') sentIds.push(tradeEventSchema.parse(data).t);
  });
  const { WebSocket } = await import('ws');
  const socket = new WebSocket(`${s.wsUrl}/stream?streams=btcusdt@trade/btcusdt@depth@100ms`);
  const receivedIds: number[] = [];
  socket.on('message', (raw) => {
    const frame = JSON.parse(String(raw)) as { stream: string; data: { t: number } };
    if (frame.stream === 'btcusdt@trade') receivedIds.push(frame.data.t);
  });
  socket.once('open', () => socket.pause());
  open.clients.push(await StreamClient.wrap(socket, false));
  let last = -1;
  let stableFor = 0;
  await waitUntil(
    'generation to stop while the client is not reading',
    () => {
      const total = s.stats().trades + s.stats().depth;
      stableFor = total === last ? stableFor + 1 : 0;
      last = total;
      return stableFor >= 3;
    },
    { intervalMs: 150, describe: () => `${last} frames sent` },
  );
  assert.ok(receivedIds.length < sentIds.length, 'the client has not read what was sent');
  const sentWhileHeld = sentIds.length;
  assert.ok(sentWhileHeld > 0);
  socket.resume();
  await waitUntil('every frame sent while held', () => receivedIds.length >= sentWhileHeld, {
    describe: () => `${receivedIds.length} of ${sentWhileHeld}`,
  });
  assert.deepEqual(receivedIds.slice(0, sentWhileHeld), sentIds.slice(0, sentWhileHeld));
  receivedIds.slice(1, sentWhileHeld).forEach((id, i) => assert.equal(id, (receivedIds[i] ?? 0) + 1));
  await waitUntil('generation to resume', () => sentIds.length > sentWhileHeld);
});
