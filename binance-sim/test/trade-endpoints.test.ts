import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { tradeEventSchema, type TradeEvent } from '@candleflow/common/binance-events';
import { waitUntil } from '@candleflow/common/testing';
import { WebSocket } from 'ws';
import { z } from 'zod';
import { startSimulator, type Simulator } from '../src/simulator.js';
import type { Trade } from '../src/trade-log.js';
import { StreamClient } from './stream-client.js';

const open: { sims: Simulator[]; clients: StreamClient[] } = { sims: [], clients: [] };
after(async () => {
  await Promise.all(open.clients.map((c) => c.close()));
  await Promise.all(open.sims.map((s) => s.close()));
});

interface SimExtra {
  rate?: number;
  maxMessages?: number;
  tradeRetention?: number;
  weightPerMinute?: number;
}

async function sim({ rate = 2000, maxMessages, ...rest }: SimExtra = {}): Promise<Simulator> {
  const s = await startSimulator({
    port: 0,
    source: { kind: 'synthetic', symbols: ['BTCUSDT', 'ETHUSDT'], rate, seed: 5, maxMessages },
    ...rest,
  });
  open.sims.push(s);
  return s;
}

async function connect(s: Simulator, streams: string[]): Promise<StreamClient> {
  const c = await StreamClient.combined(s.wsUrl, streams);
  open.clients.push(c);
  return c;
}

async function get(
  s: Simulator,
  path: string,
  method = 'GET',
): Promise<{ status: number; body: unknown; headers: Headers }> {
  const response = await fetch(`${s.restUrl}${path}`, { method });
  return { status: response.status, body: await response.json(), headers: response.headers };
}

const decimal = z.string().regex(/^\d+\.\d{8}$/);
const historicalTradeSchema = z.strictObject({
  id: z.number().int(),
  price: decimal,
  qty: decimal,
  quoteQty: decimal,
  time: z.number().int(),
  isBuyerMaker: z.boolean(),
  isBestMatch: z.literal(true),
});
const aggTradeSchema = z.strictObject({
  a: z.number().int(),
  p: decimal,
  q: decimal,
  f: z.number().int(),
  l: z.number().int(),
  T: z.number().int(),
  m: z.boolean(),
  M: z.literal(true),
});
type AggTrade = z.infer<typeof aggTradeSchema>;

/** The fields a trade has in both the stream and REST, from a stream event. */
const fieldsOf = (t: TradeEvent): object => ({ id: t.t, price: t.p, qty: t.q, time: t.T, isBuyerMaker: t.m });

async function historical(s: Simulator, query: string): Promise<z.infer<typeof historicalTradeSchema>[]> {
  const answer = await get(s, `/api/v3/historicalTrades?${query}`);
  assert.equal(answer.status, 200, JSON.stringify(answer.body));
  return z.array(historicalTradeSchema).parse(answer.body);
}

async function aggregates(s: Simulator, query: string): Promise<AggTrade[]> {
  const answer = await get(s, `/api/v3/aggTrades?${query}`);
  assert.equal(answer.status, 200, JSON.stringify(answer.body));
  return z.array(aggTradeSchema).parse(answer.body);
}

/** Subscribes to BTCUSDT's trades only and returns every trade the stream sent, once the market has stopped. */
async function streamedTrades(s: Simulator, count: number): Promise<TradeEvent[]> {
  const c = await connect(s, ['btcusdt@trade']);
  await waitUntil(`${count} trades`, () => c.frames.length === count && s.stats().trades === count, {
    describe: () => `${c.frames.length} frames`,
  });
  return c.frames.map((f) => tradeEventSchema.parse(f.data));
}

test('historicalTrades pages from fromId through exactly the trades the stream sent', async () => {
  const s = await sim({ rate: 20_000, maxMessages: 2500 });
  const sent = await streamedTrades(s, 2500);
  const pages: z.infer<typeof historicalTradeSchema>[][] = [];
  for (let fromId = sent[0]?.t ?? 0; ;) {
    const page = await historical(s, `symbol=BTCUSDT&fromId=${fromId}&limit=1000`);
    pages.push(page);
    if (page.length < 1000) break;
    fromId = (page.at(-1)?.id ?? 0) + 1;
  }
  assert.deepEqual(
    pages.map((p) => p.length),
    [1000, 1000, 500],
  );
  const fetched = pages.flat();
  assert.deepEqual(
    fetched.map(({ id, price, qty, time, isBuyerMaker }) => ({ id, price, qty, time, isBuyerMaker })),
    sent.map(fieldsOf),
  );
  assert.deepEqual(Object.keys(fetched[0] ?? {}), [
    'id',
    'price',
    'qty',
    'quoteQty',
    'time',
    'isBuyerMaker',
    'isBestMatch',
  ]);
  for (const t of fetched) {
    assert.ok(Math.abs(Number(t.quoteQty) - Number(t.price) * Number(t.qty)) < 1e-6, `quoteQty of ${t.id}`);
  }
  const latest = await historical(s, 'symbol=BTCUSDT');
  assert.deepEqual(
    latest.map((t) => t.id),
    sent.slice(-500).map((t) => t.t),
    'without fromId: the latest 500',
  );
  assert.deepEqual(await historical(s, `symbol=BTCUSDT&fromId=${(sent.at(-1)?.t ?? 0) + 1}`), []);
});

test('historicalTrades and aggTrades refuse bad parameters as Binance does', async () => {
  const s = await sim();
  const limitError = { code: -1100, msg: "Illegal characters found in parameter 'limit'." };
  const cases: [string, number, unknown][] = [
    ['/api/v3/historicalTrades?symbol=BTCUSDT&limit=1001', 400, limitError],
    ['/api/v3/historicalTrades?symbol=BTCUSDT&limit=0', 400, limitError],
    ['/api/v3/historicalTrades?symbol=BTCUSDT&limit=1000', 200, []],
    [
      '/api/v3/historicalTrades?limit=10',
      400,
      { code: -1102, msg: "Mandatory parameter 'symbol' was not sent, was empty/null, or malformed." },
    ],
    ['/api/v3/historicalTrades?symbol=NOPEUSDT', 400, { code: -1121, msg: 'Invalid symbol.' }],
    ['/api/v3/historicalTrades?symbol=btcusdt', 400, { code: -1121, msg: 'Invalid symbol.' }],
    [
      '/api/v3/historicalTrades?symbol=BTCUSDT&fromId=-5',
      400,
      { code: -1100, msg: "Illegal characters found in parameter 'fromId'." },
    ],
    ['/api/v3/aggTrades?symbol=BTCUSDT&limit=1001', 400, limitError],
    ['/api/v3/aggTrades?symbol=XXXUSDT&startTime=0', 400, { code: -1121, msg: 'Invalid symbol.' }],
    [
      '/api/v3/aggTrades?symbol=BTCUSDT&fromId=1&startTime=0',
      400,
      { code: -1128, msg: 'Combination of optional parameters invalid.' },
    ],
    [
      '/api/v3/aggTrades?symbol=BTCUSDT&startTime=soon',
      400,
      { code: -1100, msg: "Illegal characters found in parameter 'startTime'." },
    ],
  ];
  for (const [path, status, body] of cases) {
    const answer = await get(s, path);
    assert.deepEqual({ status: answer.status, body: answer.body }, { status, body }, path);
  }
  assert.equal((await get(s, '/api/v3/historicalTrades?symbol=BTCUSDT', 'POST')).status, 405);
});

/** Weight counts per clock minute: start a test that reads the counts with the minute far from over. */
async function awayFromMinuteEnd(): Promise<void> {
  await waitUntil('at least 5 s left in the current minute', () => Date.now() % 60_000 < 55_000, {
    timeoutMs: 10_000,
  });
}

test('every API answer carries the minute’s used weight, per Binance’s weight of each request', async () => {
  const s = await sim();
  await awayFromMinuteEnd();
  const weights: [string, number][] = [
    ['/api/v3/ping', 1],
    ['/api/v3/time', 1],
    ['/api/v3/depth?symbol=BTCUSDT', 5],
    ['/api/v3/depth?symbol=BTCUSDT&limit=100', 5],
    ['/api/v3/depth?symbol=BTCUSDT&limit=500', 25],
    ['/api/v3/depth?symbol=BTCUSDT&limit=1000', 50],
    ['/api/v3/depth?symbol=BTCUSDT&limit=5000', 250],
    ['/api/v3/historicalTrades?symbol=BTCUSDT', 25],
    ['/api/v3/historicalTrades?symbol=NOPEUSDT', 25],
    ['/api/v3/aggTrades?symbol=BTCUSDT&startTime=0&limit=1', 4],
    ['/api/v3/ticker/24hr?symbol=BTCUSDT', 2],
    ['/api/v3/ticker/24hr', 80],
  ];
  let used = 0;
  for (const [path, weight] of weights) {
    const answer = await get(s, path);
    used += weight;
    assert.equal(answer.headers.get('x-mbx-used-weight-1m'), String(used), path);
  }
  const control = await get(s, '/sim/stats');
  assert.equal(control.headers.get('x-mbx-used-weight-1m'), null, 'control endpoints are not Binance’s');
});

test('over the weight limit: 429 with Retry-After and Binance’s -1003 body until the minute ends', async () => {
  const s = await sim({ weightPerMinute: 60 });
  await awayFromMinuteEnd();
  const statuses: number[] = [];
  for (let i = 0; i < 2; i++) statuses.push((await get(s, '/api/v3/historicalTrades?symbol=BTCUSDT')).status);
  const refused = await get(s, '/api/v3/historicalTrades?symbol=BTCUSDT');
  const secondsLeft = Math.ceil((60_000 - (Date.now() % 60_000)) / 1000);
  assert.deepEqual(statuses, [200, 200]);
  assert.equal(refused.status, 429);
  assert.deepEqual(refused.body, {
    code: -1003,
    msg: 'Too much request weight used; current limit is 60 request weight per 1 MINUTE. Please use WebSocket Streams for live updates to avoid polling the API.',
  });
  assert.equal(refused.headers.get('x-mbx-used-weight-1m'), '75');
  const retryAfter = Number(refused.headers.get('retry-after'));
  assert.ok(
    retryAfter >= secondsLeft && retryAfter <= secondsLeft + 1,
    `Retry-After ${retryAfter}, ${secondsLeft} s left`,
  );
  const ping = await get(s, '/api/v3/ping');
  assert.equal(ping.status, 429, 'every endpoint is refused for the rest of the minute');
  assert.equal(ping.headers.get('x-mbx-used-weight-1m'), '76');
  assert.equal((await get(s, '/sim/stats')).status, 200, 'control endpoints are not limited');
});

test('the retention keeps the newest trades per symbol; older ids get an empty answer', async () => {
  const s = await sim({ rate: 5000, maxMessages: 300, tradeRetention: 100 });
  const sent = await streamedTrades(s, 300);
  const newest = sent.slice(200).map(fieldsOf);
  const fields = (items: z.infer<typeof historicalTradeSchema>[]): object[] =>
    items.map(({ id, price, qty, time, isBuyerMaker }) => ({ id, price, qty, time, isBuyerMaker }));
  assert.deepEqual(fields(await historical(s, 'symbol=BTCUSDT&limit=1000')), newest);
  assert.deepEqual(fields(await historical(s, `symbol=BTCUSDT&fromId=${sent[200]?.t}&limit=1000`)), newest);
  assert.deepEqual(await historical(s, `symbol=BTCUSDT&fromId=${sent[199]?.t}`), []);
  assert.deepEqual(await historical(s, `symbol=BTCUSDT&fromId=${sent[0]?.t}`), []);
  assert.deepEqual(await aggregates(s, `symbol=BTCUSDT&startTime=${sent[0]?.T}`), []);
});

test('aggTrades: trades grouped as Binance groups them; startTime finds the first trade at or after it', async () => {
  const s = await sim({ rate: 20_000, maxMessages: 3000 });
  const sent = await streamedTrades(s, 3000);
  const all: AggTrade[] = [];
  for (let fromId: number | undefined; ;) {
    const page = await aggregates(
      s,
      `symbol=BTCUSDT&limit=1000&${fromId === undefined ? 'startTime=0' : `fromId=${fromId}`}`,
    );
    all.push(...page);
    if (page.length < 1000) break;
    fromId = (page.at(-1)?.a ?? 0) + 1;
  }
  const byId = new Map(sent.map((t) => [t.t, t]));
  assert.equal(all[0]?.f, sent[0]?.t);
  assert.equal(all.at(-1)?.l, sent.at(-1)?.t);
  all.forEach((agg, i) => {
    const previous = all[i - 1];
    if (previous) {
      assert.equal(agg.a, previous.a + 1, 'aggregate ids are consecutive');
      assert.equal(agg.f, previous.l + 1, 'aggregates cover every trade once');
      assert.ok(agg.T !== previous.T || agg.m !== previous.m || agg.p !== previous.p, `aggregate ${agg.a} is maximal`);
    }
    const members = Array.from({ length: agg.l - agg.f + 1 }, (_, k) => byId.get(agg.f + k));
    for (const t of members)
      assert.deepEqual([t?.T, t?.m, t?.p], [agg.T, agg.m, agg.p], `a trade of aggregate ${agg.a}`);
    const qty = members.reduce((sum, t) => sum + Number(t?.q), 0);
    assert.equal(agg.q, qty.toFixed(8), `quantity of aggregate ${agg.a}`);
  });
  assert.ok(all.length < sent.length, `some trades share an aggregate (${all.length} for ${sent.length} trades)`);
  assert.ok(all[0]?.a !== all[0]?.f, 'aggregate ids are not trade ids');

  const firstAt = (time: number): number | undefined => sent.find((t) => t.T >= time)?.t;
  const times = [...new Set(sent.map((t) => t.T))];
  const probes = [times[0], times[1], (times[1] ?? 0) + 1, times[Math.floor(times.length / 2)], times.at(-1)];
  for (const startTime of probes.filter((t) => t !== undefined)) {
    const [first] = await aggregates(s, `symbol=BTCUSDT&startTime=${startTime}&limit=1`);
    assert.equal(first?.f, firstAt(startTime), `startTime=${startTime}`);
  }
  assert.deepEqual(await aggregates(s, `symbol=BTCUSDT&startTime=${(times.at(-1) ?? 0) + 1}&limit=1`), []);
  const middle = times[Math.floor(times.length / 2)] ?? 0;
  const [lastBefore] = await aggregates(s, `symbol=BTCUSDT&endTime=${middle}&limit=1`);
  assert.equal(lastBefore?.l, sent.findLast((t) => t.T <= middle)?.t, 'endTime alone: the latest aggregate before it');
  const window = await aggregates(s, `symbol=BTCUSDT&startTime=${times[1]}&endTime=${middle}&limit=1000`);
  assert.deepEqual([window[0]?.f, window.at(-1)?.l], [firstAt(times[1] ?? 0), sent.findLast((t) => t.T <= middle)?.t]);
  assert.equal((await aggregates(s, 'symbol=BTCUSDT')).length, Math.min(500, all.length), 'default limit 500');
});

test('withholdTrades keeps the next trades off the stream; they keep their ids and REST has them', async () => {
  const s = await sim();
  const withheld: Trade[] = [];
  s.on('withheld', (symbol: string, trade: Trade) => {
    if (symbol === 'BTCUSDT') withheld.push(trade);
  });
  const c = await connect(s, ['btcusdt@trade']);
  await waitUntil('a few trades', () => c.frames.length >= 20);
  const control = await get(s, '/sim/withhold-trades?symbol=BTCUSDT&count=5', 'POST');
  assert.deepEqual([control.status, control.body], [200, { symbol: 'BTCUSDT', pending: 5 }]);
  const ids = (): number[] => c.frames.map((f) => tradeEventSchema.parse(f.data).t);
  await waitUntil(
    'trades after the withheld ones',
    () => withheld.length === 5 && (ids().at(-1) ?? 0) > (withheld[4]?.id ?? 0),
  );

  const streamed = ids();
  const jumps = streamed.slice(1).flatMap((id, i) => (id === (streamed[i] ?? 0) + 1 ? [] : [[streamed[i], id]]));
  const first = withheld[0]?.id ?? 0;
  assert.deepEqual(
    withheld.map((t) => t.id),
    [first, first + 1, first + 2, first + 3, first + 4],
  );
  assert.deepEqual(jumps, [[first - 1, first + 5]], 'the stream skips exactly the withheld ids');
  const repaired = await historical(s, `symbol=BTCUSDT&fromId=${first}&limit=5`);
  assert.deepEqual(
    repaired.map(({ id, price, qty, time, isBuyerMaker }) => ({ id, price, qty, time, isBuyerMaker })),
    withheld,
  );

  assert.equal(s.withholdTrades('ETHUSDT', 2), 2);
  assert.equal(s.withholdTrades('ETHUSDT', 3), 5, 'counts add up');
  assert.throws(() => s.withholdTrades('NOPEUSDT', 1), /unknown symbol/);
  assert.throws(() => s.withholdTrades('BTCUSDT', 0), /positive integer/);
  const refusals: [string, number, unknown][] = [
    [
      '/sim/withhold-trades?symbol=BTCUSDT&count=0',
      400,
      { code: -1100, msg: "Illegal characters found in parameter 'count'." },
    ],
    [
      '/sim/withhold-trades?symbol=BTCUSDT',
      400,
      { code: -1102, msg: "Mandatory parameter 'count' was not sent, was empty/null, or malformed." },
    ],
    ['/sim/withhold-trades?symbol=NOPEUSDT&count=1', 400, { code: -1121, msg: 'Invalid symbol.' }],
  ];
  for (const [path, status, body] of refusals) {
    const answer = await get(s, path, 'POST');
    assert.deepEqual({ status: answer.status, body: answer.body }, { status, body }, path);
  }
  assert.equal((await get(s, '/sim/withhold-trades?symbol=BTCUSDT&count=1')).status, 405);
});

const serverShutdownSchema = z.strictObject({ e: z.literal('serverShutdown'), E: z.number().int() });

test('serverShutdown is announced on every connection, which closes after the grace; new ones are accepted', async () => {
  const s = await sim({ rate: 200 });
  const combined = await connect(s, ['btcusdt@trade']);
  const raw = await StreamClient.wrap(new WebSocket(`${s.wsUrl}/ws/ethusdt@trade`));
  open.clients.push(raw);
  await waitUntil('both connected', () => s.stats().connections === 2);
  const announcedAt = Date.now();
  const control = await get(s, '/sim/server-shutdown?graceMs=400', 'POST');
  assert.deepEqual(control.body, { notified: 2, graceMs: 400 });
  const fresh = await connect(s, ['btcusdt@trade']);

  for (const client of [combined, raw]) {
    const announcement = await waitUntil('the announcement', () =>
      client.others.find((m) => serverShutdownSchema.safeParse(m).success),
    );
    const { E } = serverShutdownSchema.parse(announcement);
    assert.ok(E >= announcedAt && E <= Date.now(), 'E is when it was sent');
    assert.equal(await client.whenClosed(), 1001);
  }
  assert.ok(Date.now() - announcedAt >= 400, 'closed only after the grace');
  assert.deepEqual(fresh.others, [], 'a connection opened after the announcement is not told');
  const framesNow = fresh.frames.length;
  await waitUntil('the new connection to keep getting trades', () => fresh.frames.length > framesNow + 3);
  assert.equal(fresh.closeCode, undefined);
  assert.equal(s.stats().connections, 1);

  const leaving = await connect(s, ['ethusdt@trade']);
  assert.equal(s.serverShutdown(60_000), 2, 'in-process, for every open connection');
  await leaving.close();
  await waitUntil('the server to see it go', () => s.stats().connections === 1);
  assert.equal(s.serverShutdown(50), 1, 'a client that left is no longer told');
  assert.equal(await fresh.whenClosed(), 1001);
  await waitUntil('every connection closed', () => s.stats().connections === 0);

  assert.deepEqual((await get(s, '/sim/server-shutdown', 'POST')).body, { notified: 0, graceMs: 5000 });
  assert.deepEqual((await get(s, '/sim/server-shutdown?graceMs=soon', 'POST')).body, {
    code: -1100,
    msg: "Illegal characters found in parameter 'graceMs'.",
  });
});
