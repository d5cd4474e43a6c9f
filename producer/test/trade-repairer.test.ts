import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { test, type TestContext } from 'node:test';
import { Registry } from 'prom-client';
import { tradeEventSchema } from '@candleflow/common/binance-events';
import { waitUntil } from '@candleflow/common/testing';
import { BinanceRest } from '../src/binance-rest.js';
import type { OutgoingMessage } from '../src/kafka-sink.js';
import { createProducerMetrics } from '../src/metrics.js';
import { RepairPlanner } from '../src/repair-planner.js';
import { RequestWeightBudget } from '../src/request-weight-budget.js';
import { SnapshotFetcher } from '../src/snapshot-fetcher.js';
import { TradeRepairer, restTradeEvent, type RepairSink } from '../src/trade-repairer.js';
import { captureLogger } from './support/harness.js';

/** The trade the fake exchange holds under `id`. */
const trade = (id: number) => ({
  id,
  price: `${100 + (id % 7)}.5`,
  qty: '0.01000000',
  quoteQty: '1.005',
  time: 1_700_000_000_000 + id,
  isBuyerMaker: id % 2 === 0,
  isBestMatch: true,
});

interface Exchange {
  url: string;
  paths: string[];
  /** Overrides the answer to request number n (1-based); return true when answered. */
  intercept?: (n: number, url: URL, res: http.ServerResponse) => boolean;
}

/** A REST endpoint holding trades `first..last` of every symbol, answering like Binance. */
async function exchange(t: TestContext, first: number, last: number): Promise<Exchange> {
  const state: Exchange = { url: '', paths: [] };
  const server = http.createServer((req, res) => {
    state.paths.push(req.url ?? '');
    const url = new URL(req.url ?? '/', 'http://x');
    if (state.intercept?.(state.paths.length, url, res)) return;
    res.setHeader('content-type', 'application/json');
    if (url.pathname === '/api/v3/historicalTrades') {
      const from = Math.max(first, Number(url.searchParams.get('fromId')));
      const limit = Number(url.searchParams.get('limit'));
      const ids = Array.from({ length: Math.max(0, Math.min(limit, last - from + 1)) }, (_, i) => from + i);
      res.end(JSON.stringify(ids.map(trade)));
    } else if (url.pathname === '/api/v3/aggTrades') {
      const since = Number(url.searchParams.get('startTime'));
      const id = Math.max(first, since - 1_700_000_000_000);
      res.end(JSON.stringify(id > last ? [] : [{ a: id, p: '1', q: '1', f: id, l: id, T: since, m: true, M: true }]));
    } else if (url.pathname === '/api/v3/depth') {
      res.end(JSON.stringify({ lastUpdateId: 1, bids: [], asks: [] }));
    } else {
      res.statusCode = 404;
      res.end('{}');
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return state;
}

class MemorySink implements RepairSink {
  readonly messages: OutgoingMessage[] = [];
  send(message: OutgoingMessage): boolean {
    this.messages.push(message);
    return true;
  }
  waitForRoom(): Promise<void> {
    return Promise.resolve();
  }
}

function repairer(
  t: TestContext,
  restUrl: string,
  options: { weightPerMinute?: number; progressIntervalMs?: number } = {},
) {
  const registry = new Registry();
  const metrics = createProducerMetrics(registry);
  const budget = new RequestWeightBudget(options.weightPerMinute ?? 6000);
  const rest = new BinanceRest({ restUrl, budget, metrics });
  const { logger, lines } = captureLogger();
  const snapshots = new SnapshotFetcher({
    rest,
    budget,
    depth: 1000,
    concurrency: 1,
    backoff: { minMs: 20, maxMs: 100 },
    logger,
    onNoneWaiting: () => repair.wake(),
  });
  const sink = new MemorySink();
  const planner = new RepairPlanner({
    budget,
    snapshotReserve: 0,
    maxTradesPerSymbol: 1_000_000,
    batchLimit: 1000,
    retryDelay: () => 20,
  });
  const repair = new TradeRepairer({
    topic: 'trades',
    planner,
    rest,
    sink,
    snapshots,
    batchLimit: 1000,
    metrics,
    logger,
    progressIntervalMs: options.progressIntervalMs,
  });
  t.after(() => {
    repair.close();
    snapshots.close();
    rest.close();
  });
  const value = async (name: string, labels: Record<string, string> = {}): Promise<number> => {
    const { values } = await (
      registry.getSingleMetric(name) as NonNullable<ReturnType<Registry['getSingleMetric']>>
    ).get();
    return values
      .filter((v) => Object.entries(labels).every(([k, want]) => String(v.labels[k]) === want))
      .reduce((n, v) => n + v.value, 0);
  };
  return { repair, planner, sink, snapshots, budget, logs: lines, value };
}

test('a hole is fetched in batches and published in id order, as stream-shaped trades with header source=rest', async (t) => {
  const ex = await exchange(t, 1, 10_000);
  const { repair, sink, value } = repairer(t, ex.url);
  const before = Date.now();
  repair.addHole('BTCUSDT', { from: 101, to: 2600 });
  await waitUntil('2500 repaired trades', () => sink.messages.length === 2500);
  assert.deepEqual(ex.paths, [
    '/api/v3/historicalTrades?symbol=BTCUSDT&fromId=101&limit=1000',
    '/api/v3/historicalTrades?symbol=BTCUSDT&fromId=1101&limit=1000',
    '/api/v3/historicalTrades?symbol=BTCUSDT&fromId=2101&limit=500',
  ]);
  assert.deepEqual(
    sink.messages.map((m) => m.tradeId),
    Array.from({ length: 2500 }, (_, i) => 101 + i),
  );
  const first = sink.messages[0] as OutgoingMessage;
  assert.deepEqual(
    { ...first, value: '', receivedAt: 0 },
    {
      topic: 'trades',
      key: 'BTCUSDT',
      value: '',
      receivedAt: 0,
      tradeId: 101,
      source: 'rest',
    },
  );
  assert.ok(first.receivedAt >= before && first.receivedAt <= Date.now());
  assert.equal(first.value, restTradeEvent('BTCUSDT', trade(101), first.receivedAt));
  assert.deepEqual(JSON.parse(first.value), {
    e: 'trade',
    E: first.receivedAt,
    s: 'BTCUSDT',
    t: 101,
    p: '103.5',
    q: '0.01000000',
    T: 1_700_000_000_101,
    m: false,
    M: true,
  });
  assert.equal(tradeEventSchema.safeParse(JSON.parse(first.value)).success, true);
  assert.equal(await value('producer_trades_repaired_total'), 2500);
  assert.equal(await value('producer_rest_requests_total', { endpoint: 'historicalTrades', result: 'ok' }), 3);
});

test('a new symbol: the first id at the start time comes from aggTrades, then its trades up to the streamed one', async (t) => {
  const ex = await exchange(t, 1, 10_000);
  const { repair, sink } = repairer(t, ex.url);
  repair.addBackfill('SOLUSDT', 1_700_000_000_000 + 9_000, 9_500);
  await waitUntil('the backfill', () => sink.messages.length === 500);
  assert.deepEqual(ex.paths, [
    '/api/v3/aggTrades?symbol=SOLUSDT&startTime=1700000009000&limit=1',
    '/api/v3/historicalTrades?symbol=SOLUSDT&fromId=9000&limit=500',
  ]);
  assert.equal(sink.messages.at(-1)?.tradeId, 9_499);
});

test('429 on a repair: Retry-After holds back every REST request, depth snapshots included', async (t) => {
  const ex = await exchange(t, 1, 10_000);
  ex.intercept = (n, _url, res) => {
    if (n !== 1) return false;
    res.writeHead(429, { 'retry-after': '1', 'content-type': 'application/json' });
    res.end('{"code":-1003,"msg":"Too many requests"}');
    return true;
  };
  const { repair, sink, snapshots, logs, value } = repairer(t, ex.url);
  const at: number[] = [];
  const started = Date.now();
  repair.addHole('BTCUSDT', { from: 1, to: 10 });
  await waitUntil('the refusal', () => ex.paths.length === 1);
  const snapshot = snapshots.fetch('ETHUSDT').then(() => at.push(Date.now()));
  await waitUntil('the repair done', () => sink.messages.length === 10, { timeoutMs: 10_000 });
  await snapshot;
  assert.ok((at[0] ?? 0) - started >= 1000, 'the snapshot waited for Retry-After');
  assert.equal(
    await value('producer_rest_requests_total', { endpoint: 'historicalTrades', result: 'rate-limited' }),
    1,
  );
  assert.ok(logs.some((l) => /HTTP 429 \(request weight exceeded\), pausing REST requests for 1s/.test(l.msg)));
});

test('a bad answer is counted, logged and retried; nothing of it is published', async (t) => {
  const ex = await exchange(t, 1, 10_000);
  ex.intercept = (n, _url, res) => {
    if (n === 1) res.end('[{"id":1,"price":"1e5"}]');
    else if (n === 2)
      res.end(
        '[{"id":3,"price":"1","qty":"1","time":1,"isBuyerMaker":true,"isBestMatch":true},{"id":2,"price":"1","qty":"1","time":1,"isBuyerMaker":true,"isBestMatch":true}]',
      );
    else return false;
    return true;
  };
  const { repair, sink, logs, value } = repairer(t, ex.url);
  repair.addHole('BTCUSDT', { from: 1, to: 5 });
  await waitUntil('the repair', () => sink.messages.length === 5);
  assert.deepEqual(
    sink.messages.map((m) => m.tradeId),
    [1, 2, 3, 4, 5],
  );
  assert.equal(await value('producer_rest_requests_total', { endpoint: 'historicalTrades', result: 'bad-answer' }), 1);
  const warnings = logs.filter((l) => l.level === 40).map((l) => l.msg);
  assert.equal(warnings.length, 2, JSON.stringify(warnings));
  assert.match(warnings[0] ?? '', /^trade repair request for BTCUSDT failed: unexpected answer: 0\.price: /);
  assert.equal(
    warnings[1],
    'trade repair request for BTCUSDT failed: answer not ascending from fromId=1 at index 1; retrying',
  );
});

test('trades the exchange no longer has are counted as unrepairable, once', async (t) => {
  const ex = await exchange(t, 500, 10_000);
  const { repair, sink, logs, value } = repairer(t, ex.url);
  repair.addHole('BTCUSDT', { from: 401, to: 600 });
  await waitUntil('the repair', () => sink.messages.length === 101);
  assert.equal(await value('producer_trades_unrepairable_total'), 99);
  assert.deepEqual(
    logs.filter((l) => l.level === 40).map((l) => l.msg),
    ['BTCUSDT: 99 missed trades cannot be repaired (not served by the exchange): ids 401..499'],
  );
});

test('progress: a line per interval while repairing, and the pending gauges', async (t) => {
  const ex = await exchange(t, 1, 100_000);
  const { repair, budget, logs, value } = repairer(t, ex.url, { progressIntervalMs: 100 });
  // A long pause once the first two requests (one per symbol) are under way: the hole stays open.
  ex.intercept = (n) => {
    if (n === 1) budget.block(Date.now() + 600_000);
    return false;
  };
  repair.addHole('BTCUSDT', { from: 1, to: 5000 });
  repair.addHole('ETHUSDT', { from: 1, to: 10 });
  await waitUntil('a progress line', () => logs.some((l) => l.msg.startsWith('repairing trades: ')));
  const line = logs.find((l) => l.msg.startsWith('repairing trades: '));
  assert.equal(line?.msg, 'repairing trades: 1 symbols pending, 4000 ids left');
  assert.equal(await value('producer_repair_pending_trades'), 4000);
  assert.equal(await value('producer_repair_pending_symbols'), 1);
});
