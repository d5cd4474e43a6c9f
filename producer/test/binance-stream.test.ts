import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { WebSocketServer, type ServerOptions, type WebSocket } from 'ws';
import { waitUntil } from '@candleflow/common/testing';
import { BinanceStream, type StreamEvent } from '../src/binance-stream.js';
import { planConnections } from '../src/stream-plan.js';
import { freePort } from '@candleflow/common/free-port';
import { captureLogger } from './support/harness.js';

const trade = (t: number): string =>
  `{"stream":"btcusdt@trade","data":{"e":"trade","E":1,"s":"BTCUSDT","t":${t},"p":"1.0","q":"2.0","T":1,"m":false}}`;

interface FakeExchange {
  wss: WebSocketServer;
  url: string;
  sockets: WebSocket[];
  paths: string[];
  close(): Promise<void>;
}

async function fakeExchange(
  port = 0,
  onConnection?: (socket: WebSocket) => void,
  options: ServerOptions = {},
): Promise<FakeExchange> {
  const wss = new WebSocketServer({ ...options, host: '127.0.0.1', port });
  await new Promise<void>((resolve) => wss.once('listening', () => resolve()));
  const exchange: FakeExchange = {
    wss,
    url: `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`,
    sockets: [],
    paths: [],
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of wss.clients) s.terminate();
        wss.close(() => resolve());
      }),
  };
  wss.on('connection', (socket, request) => {
    exchange.sockets.push(socket);
    exchange.paths.push(request.url ?? '');
    onConnection?.(socket);
  });
  return exchange;
}

function openStream(wsUrl: string, overrides: { idleTimeoutMs?: number; framesPerTurn?: number } = {}) {
  const { logger, lines } = captureLogger();
  const stream = new BinanceStream({
    wsUrl,
    plan: planConnections(['BTCUSDT'], 1024)[0] as ReturnType<typeof planConnections>[number],
    name: '1/1',
    idleTimeoutMs: overrides.idleTimeoutMs ?? 30_000,
    framesPerTurn: overrides.framesPerTurn ?? 100,
    renewAfterMs: 3_600_000,
    backoff: { minMs: 50, maxMs: 200 },
    logger,
  });
  const events: StreamEvent[] = [];
  const reading = (async () => {
    for await (const event of stream) events.push(event);
  })();
  return {
    stream,
    events,
    logs: lines,
    close: async () => {
      stream.close();
      await reading;
    },
  };
}

test('subscribes to the combined streams of its symbols', async (t) => {
  const exchange = await fakeExchange();
  t.after(() => exchange.close());
  const s = openStream(exchange.url);
  t.after(() => s.close());
  await waitUntil('a connection', () => exchange.sockets.length === 1);
  assert.deepEqual(exchange.paths, ['/stream?streams=btcusdt@trade/btcusdt@depth@100ms']);
  await waitUntil('connected', () => s.stream.connected);
  assert.ok(s.logs.some((l) => l.msg === 'connected' && l.symbols === 1 && l.streams === 2));
});

test('a malformed frame is reported and skipped; the next frame still comes through', async (t) => {
  const exchange = await fakeExchange(0, (socket) => {
    socket.send('{"stream":"btcusdt@trade","data":');
    socket.send('{"stream":"btcusdt@trade","data":{"e":"trade"}}');
    socket.send(trade(7));
  });
  t.after(() => exchange.close());
  const s = openStream(exchange.url);
  t.after(() => s.close());
  await waitUntil('three events', () => s.events.length === 3);
  assert.deepEqual(
    s.events.map((e) =>
      e.type === 'malformed'
        ? `malformed ${e.kind}`
        : e.type === 'message'
          ? `trade ${e.message.kind === 'trade' ? e.message.tradeId : ''}`
          : e.type,
    ),
    ['malformed not-json', 'malformed invalid-trade', 'trade 7'],
  );
  assert.ok(s.stream.connected, 'bad frames do not cost the connection');
});

test('a burst is handled a bounded number of frames per event-loop turn, complete and in order', async (t) => {
  const burst = 3000;
  const framesPerTurn = 20;
  const exchange = await fakeExchange(0, (socket) => {
    for (let i = 1; i <= burst; i++) socket.send(trade(i));
  });
  t.after(() => exchange.close());
  const s = openStream(exchange.url, { framesPerTurn });
  t.after(() => s.close());
  // Frames handled between two check phases of the event loop.
  const perTurn: number[] = [];
  let seen = 0;
  let counting = true;
  const tick = (): void => {
    perTurn.push(s.events.length - seen);
    seen = s.events.length;
    if (counting) setImmediate(tick);
  };
  setImmediate(tick);
  await waitUntil('the whole burst', () => s.events.length === burst);
  counting = false;
  const ids = s.events.map((e) => (e.type === 'message' && e.message.kind === 'trade' ? e.message.tradeId : -1));
  assert.deepEqual(
    ids,
    Array.from({ length: burst }, (_, i) => i + 1),
  );
  // A socket read (64 KiB at most) may arrive whole after reading paused; no more than that.
  const bound = framesPerTurn + Math.ceil(65_536 / trade(1).length);
  assert.ok(Math.max(...perTurn) <= bound, `at most ${Math.max(...perTurn)} frames in a turn, bound ${bound}`);
});

test('a silent connection is declared dead after the idle timeout and replaced', async (t) => {
  const exchange = await fakeExchange(0, (socket) => socket.send(trade(exchangeTrades++)));
  let exchangeTrades = 1;
  t.after(() => exchange.close());
  const s = openStream(exchange.url, { idleTimeoutMs: 300 });
  t.after(() => s.close());
  await waitUntil('a second connection', () => exchange.sockets.length >= 2);
  await waitUntil('the reconnect event', () => s.events.some((e) => e.type === 'reconnected'));
  assert.ok(
    s.logs.some((l) => /^connection lost: no frame for 300 ms; reconnecting in \d+ms$/.test(l.msg)),
    JSON.stringify(s.logs.map((l) => l.msg)),
  );
  assert.ok(s.logs.some((l) => l.msg === 'reconnected'));
});

test('pings count as life and are answered', async (t) => {
  let pongs = 0;
  const pingers: NodeJS.Timeout[] = [];
  const exchange = await fakeExchange(0, (socket) => {
    socket.on('pong', () => pongs++);
    pingers.push(setInterval(() => socket.ping(), 50));
  });
  t.after(() => exchange.close());
  t.after(() => pingers.forEach(clearInterval));
  const s = openStream(exchange.url, { idleTimeoutMs: 300 });
  t.after(() => s.close());
  // Ten pongs take at least 500 ms, longer than the idle timeout.
  await waitUntil('ten pongs', () => pongs >= 10);
  assert.equal(exchange.sockets.length, 1, 'the connection was kept');
  assert.ok(s.stream.connected);
});

test('an unreachable exchange: one clear line per series of failures, retries until it is there', async (t) => {
  const port = await freePort();
  const url = `ws://127.0.0.1:${port}`;
  const s = openStream(url);
  t.after(() => s.close());
  await waitUntil('three attempts', () => s.logs.filter((l) => (l.attempt as number) >= 3).length > 0);
  const warnings = s.logs.filter((l) => l.level === 40);
  assert.equal(warnings.length, 1, JSON.stringify(warnings));
  assert.match(
    warnings[0]?.msg ?? '',
    new RegExp(`^cannot reach BINANCE_WS_URL=${url}: .*ECONNREFUSED.*; retrying in \\d+ms$`),
  );
  assert.equal(s.stream.connected, false);

  const exchange = await fakeExchange(port);
  t.after(() => exchange.close());
  await waitUntil('connected once the exchange is up', () => s.stream.connected);
  assert.ok(s.logs.some((l) => l.msg === 'reached BINANCE_WS_URL again'));
});

test('a refused handshake names the HTTP status', async (t) => {
  const exchange = await fakeExchange(0, undefined, { verifyClient: (_info, done) => done(false, 451) });
  t.after(() => exchange.close());
  const s = openStream(exchange.url);
  t.after(() => s.close());
  await waitUntil('a warning', () => s.logs.some((l) => l.level === 40));
  assert.match(s.logs.find((l) => l.level === 40)?.msg ?? '', /: HTTP 451 Unavailable For Legal Reasons; retrying in/);
});

test('serverShutdown: the connection is renewed at once, without a gap or a reconnect', async (t) => {
  let next = 1;
  const exchange = await fakeExchange(0, () => {
    if (exchange.sockets.length > 1) return;
    // As Binance does, every open connection gets every trade (so a trade the old one sends
    // after the handover is the new one's too); the first announces its shutdown after 3.
    const timer = setInterval(() => {
      const open = exchange.sockets.filter((socket) => socket.readyState === socket.OPEN);
      if (open.length === 0) return clearInterval(timer);
      const frame = trade(next++);
      for (const socket of open) socket.send(frame);
      if (next === 4) exchange.sockets[0]?.send('{"e":"serverShutdown","E":1}');
    }, 20);
  });
  t.after(() => exchange.close());
  const s = openStream(exchange.url);
  t.after(() => s.close());
  await waitUntil('a second connection', () => exchange.sockets.length === 2);
  await waitUntil('the renewal', () => s.events.some((e) => e.type === 'renewed'));
  // The old server goes away after the handover.
  exchange.sockets[0]?.terminate();
  const seen = (): number[] =>
    s.events.flatMap((e) => (e.type === 'message' && e.message.kind === 'trade' ? [e.message.tradeId] : []));
  await waitUntil('trades after the handover', () => seen().length >= 20);
  assert.deepEqual(
    seen(),
    Array.from({ length: seen().length }, (_, i) => i + 1),
    'every trade once, in order',
  );
  assert.deepEqual(
    s.events.filter((e) => e.type !== 'message').map((e) => e.type),
    ['server-shutdown', 'renewed'],
  );
  assert.ok(s.logs.some((l) => l.msg === 'the exchange announced a server shutdown; renewing the connection now'));
});

test('paused: the socket is not read (and not declared idle) until resumed; nothing is lost', async (t) => {
  let next = 1;
  const exchange = await fakeExchange(0, (socket) => {
    const timer = setInterval(() => {
      if (socket.readyState !== socket.OPEN) return clearInterval(timer);
      socket.send(trade(next++));
    }, 10);
  });
  t.after(() => exchange.close());
  const s = openStream(exchange.url, { idleTimeoutMs: 200 });
  t.after(() => s.close());
  const count = (): number => s.events.filter((e) => e.type === 'message').length;
  await waitUntil('trades flowing', () => count() >= 5);
  s.stream.pause();
  const sentAtPause = next;
  // A few frames already read may still come; then nothing, for longer than the idle timeout.
  await waitUntil('the exchange sending on', () => next >= sentAtPause + 40);
  const whilePaused = count();
  await waitUntil('more sent while paused', () => next >= sentAtPause + 80);
  assert.equal(count(), whilePaused, 'nothing read while paused');
  assert.ok(whilePaused < sentAtPause + 5, `${whilePaused} read, ${sentAtPause} sent at the pause`);
  s.stream.resume();
  await waitUntil('everything sent while paused', () => count() >= sentAtPause + 80);
  assert.equal(exchange.sockets.length, 1, 'the connection was kept');
  assert.deepEqual(
    s.events.flatMap((e) => (e.type === 'message' && e.message.kind === 'trade' ? [e.message.tradeId] : [])),
    Array.from({ length: count() }, (_, i) => i + 1),
  );
});
