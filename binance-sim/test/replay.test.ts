import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import {
  depthSnapshotBodySchema,
  depthUpdateEventSchema,
  type DepthUpdateEvent,
} from '@candleflow/common/binance-events';
import { waitUntil } from '@candleflow/common/testing';
import { startSimulator, type Simulator } from '../src/simulator.js';
import { recordingLines, writeRecording } from './replay-fixture.js';
import { StreamClient } from './stream-client.js';

interface Line {
  ts: number;
  stream?: string;
  rest?: string;
  data?: unknown;
  body?: { lastUpdateId: number; bids: [string, string][]; asks: [string, string][] };
}

const lines = recordingLines() as Line[];
const recording = writeRecording(lines);
const cleanups: (() => Promise<void> | void)[] = [recording.cleanup];
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

async function replay(speed: 1 | 10 | 'max', options: { loop?: boolean; file?: string } = {}): Promise<Simulator> {
  const sim = await startSimulator({
    port: 0,
    source: { kind: 'replay', file: options.file ?? recording.file, speed, loop: options.loop },
  });
  cleanups.push(() => sim.close());
  return sim;
}

async function connect(sim: Simulator, streams: string[]): Promise<StreamClient> {
  const client = await StreamClient.combined(sim.wsUrl, streams);
  cleanups.push(() => client.close());
  return client;
}

const framesOf = (streams: string[], from: Line[] = lines): { stream: string; data: unknown }[] =>
  from.flatMap((l) => (l.stream && streams.includes(l.stream) ? [{ stream: l.stream, data: l.data }] : []));

const snapshotsOf = (symbol: string): NonNullable<Line['body']>[] =>
  lines.flatMap((l) => (l.rest?.includes(`symbol=${symbol}&`) && l.body ? [l.body] : []));

async function depth(sim: Simulator, query: string): Promise<{ status: number; body: unknown }> {
  const response = await fetch(`${sim.restUrl}/api/v3/depth?${query}`);
  return { status: response.status, body: await response.json() };
}

async function rest(sim: Simulator, path: string): Promise<unknown> {
  const response = await fetch(`${sim.restUrl}${path}`);
  assert.equal(response.status, 200);
  return response.json();
}

interface RecordedTrade {
  t: number;
  p: string;
  q: string;
  T: number;
  m: boolean;
}

const recordedTrades = (stream: string): RecordedTrade[] => framesOf([stream]).map((f) => f.data as RecordedTrade);

test('speed max delivers every subscribed frame in recorded order, and nothing else', async () => {
  const sim = await replay('max');
  const sent: string[] = [];
  sim.on('sent', (stream: string) => sent.push(stream));
  const streams = ['aaausdt@trade', 'aaausdt@depth@100ms', 'bbbusdt@depth@100ms'];
  const client = await connect(sim, [...streams, 'cccusdt@trade', 'aaausdt@kline_1m']);
  const expected = framesOf(streams);
  assert.equal(expected.length, 120);
  await waitUntil('every subscribed frame', () => client.frames.length >= expected.length, {
    describe: () => `${client.frames.length} of ${expected.length}`,
  });
  assert.deepEqual(client.frames, expected);
  assert.deepEqual(
    sent,
    expected.map((f) => f.stream),
  );
  assert.deepEqual(sim.stats(), { trades: 40, depth: 80, connections: 1, snapshots: 0 });

  const [, late] = snapshotsOf('AAAUSDT');
  const answer = await depth(sim, 'symbol=AAAUSDT&limit=1000');
  assert.deepEqual(answer, { status: 200, body: late }, 'after the replay: the latest recorded snapshot');
  const five = depthSnapshotBodySchema.parse((await depth(sim, 'symbol=AAAUSDT&limit=5')).body);
  assert.deepEqual(five, {
    lastUpdateId: late?.lastUpdateId,
    bids: late?.bids.slice(0, 5),
    asks: late?.asks.slice(0, 5),
  });
  assert.deepEqual(await depth(sim, 'symbol=CCCUSDT'), { status: 400, body: { code: -1121, msg: 'Invalid symbol.' } });
  assert.throws(() => sim.book('AAAUSDT'), /synthetic/);
});

test('the replay waits for a subscriber; until then REST answers with the first snapshot', async () => {
  const sim = await replay('max');
  const [early] = snapshotsOf('BBBUSDT');
  assert.deepEqual(await depth(sim, 'symbol=BBBUSDT&limit=1000'), { status: 200, body: early });
  const nobody = await connect(sim, ['unknown@trade']);
  const tickers = (await (await fetch(`${sim.restUrl}/api/v3/ticker/24hr`)).json()) as { count: number }[];
  assert.deepEqual(
    tickers.map((t) => t.count),
    [0, 0],
  );
  await nobody.close();
  await waitUntil('the connection to go', () => sim.stats().connections === 0);
  assert.deepEqual(sim.stats(), { trades: 0, depth: 0, connections: 0, snapshots: 1 });
  const client = await connect(sim, ['bbbusdt@trade']);
  await waitUntil('the replay to start and finish', () => client.frames.length === 40);
  const ticker = (await (await fetch(`${sim.restUrl}/api/v3/ticker/24hr?symbol=BBBUSDT`)).json()) as Record<
    string,
    unknown
  >;
  assert.equal(ticker.count, 40);
  assert.equal(ticker.lastPrice, '100.50000000');
  assert.equal(ticker.volume, '10.00000000');
  assert.equal(ticker.bidPrice, '100.00000000');
});

test('speed 10 and speed 1 keep the recorded spacing (scaled)', async () => {
  for (const [speed, subset] of [
    [10, lines],
    [1, lines.slice(0, 14)],
  ] as const) {
    const { file, cleanup } = writeRecording(subset);
    cleanups.push(cleanup);
    const sim = await replay(speed, { file });
    const streams = ['aaausdt@depth@100ms', 'bbbusdt@depth@100ms'];
    const expected = framesOf(streams, subset);
    const subscribedAt = performance.now();
    const client = await connect(sim, streams);
    await waitUntil(`speed ${speed}: every frame`, () => client.frames.length === expected.length);
    assert.deepEqual(client.frames, expected);
    // The replay starts at the subscription and never sends a line before its scaled recorded time.
    const lastTs = subset.filter((l) => l.stream && streams.includes(l.stream)).at(-1)?.ts ?? 0;
    const minimumMs = (lastTs - (subset[0]?.ts ?? 0)) / speed;
    const tookMs = (client.arrivals.at(-1) ?? 0) - subscribedAt;
    assert.ok(tookMs >= minimumMs - 1, `speed ${speed}: ${tookMs.toFixed(0)} ms for ${minimumMs} recorded ms`);
  }
});

test('--loop starts over at the end, with the first snapshot again', async () => {
  const sim = await replay('max', { loop: true });
  const streams = ['aaausdt@depth@100ms'];
  const pass = framesOf(streams);
  const client = await connect(sim, streams);
  await waitUntil('two passes', () => client.frames.length >= 2 * pass.length);
  assert.deepEqual(client.frames.slice(0, pass.length), pass);
  assert.deepEqual(client.frames.slice(pass.length, 2 * pass.length), pass);
});

test('skipNextDiff on a replay holds back exactly one recorded diff', async () => {
  const sim = await replay(10);
  const skipped: DepthUpdateEvent[] = [];
  sim.on('skipped', (e: DepthUpdateEvent) => skipped.push(e));
  const client = await connect(sim, ['aaausdt@depth@100ms']);
  await waitUntil('a few diffs', () => client.frames.length >= 3);
  sim.skipNextDiff('AAAUSDT');
  await waitUntil('the rest of the diffs', () => client.frames.length === 39);
  const diffs = client.frames.map((f) => depthUpdateEventSchema.parse(f.data));
  const gaps = diffs.slice(1).filter((d, i) => d.U !== (diffs[i]?.u ?? 0) + 1);
  assert.equal(skipped.length, 1);
  assert.equal(gaps.length, 1);
  assert.equal(gaps[0]?.U, (skipped[0]?.u ?? 0) + 1);
});

test('a bad recording stops the simulator at start with the line number', async () => {
  const { file, cleanup } = writeRecording([...lines.slice(0, 5), { ts: 1, stream: 'aaausdt@trade', data: {} }]);
  cleanups.push(cleanup);
  await assert.rejects(replay('max', { file }), /line 6: aaausdt@trade data:/);
});

test('REST trades are the replayed ones, served as the replay reaches them and never ahead', async () => {
  const sim = await replay(1);
  const recorded = recordedTrades('aaausdt@trade');
  const expected = recorded.map((t) => ({
    id: t.t,
    price: t.p,
    qty: t.q,
    quoteQty: '25.12500000',
    time: t.T,
    isBuyerMaker: t.m,
    isBestMatch: true,
  }));
  assert.deepEqual(await rest(sim, '/api/v3/historicalTrades?symbol=AAAUSDT'), [], 'nothing reached before the start');
  const client = await connect(sim, ['aaausdt@trade']);
  await waitUntil('a few trades', () => client.frames.length >= 5);
  const received = client.frames.length;
  const early = (await rest(sim, '/api/v3/historicalTrades?symbol=AAAUSDT&limit=1000')) as unknown[];
  assert.ok(early.length >= received && early.length < recorded.length, `${early.length} trades reached`);
  assert.deepEqual(early, expected.slice(0, early.length));
  await waitUntil('the whole replay', () => client.frames.length === recorded.length);
  assert.deepEqual(await rest(sim, '/api/v3/historicalTrades?symbol=AAAUSDT&limit=1000'), expected);
  const [aggregate] = (await rest(sim, `/api/v3/aggTrades?symbol=AAAUSDT&startTime=${recorded[10]?.T}&limit=1`)) as {
    f: number;
  }[];
  assert.equal(aggregate?.f, recorded[10]?.t);
});

test('withholdTrades on a replay keeps recorded trades off the stream, not off REST', async () => {
  const sim = await replay('max');
  const recordedIds = recordedTrades('bbbusdt@trade').map((t) => t.t);
  const withheld: number[] = [];
  sim.on('withheld', (_symbol: string, trade: { id: number }) => withheld.push(trade.id));
  sim.withholdTrades('BBBUSDT', 2);
  assert.throws(() => sim.withholdTrades('CCCUSDT', 1), /unknown symbol/);
  const client = await connect(sim, ['bbbusdt@trade']);
  const restIds = async (): Promise<number[]> =>
    ((await rest(sim, '/api/v3/historicalTrades?symbol=BBBUSDT&limit=1000')) as { id: number }[]).map((t) => t.id);
  await waitUntil('every trade on REST', async () => (await restIds()).length === recordedIds.length);
  await waitUntil('the rest on the stream', () => client.frames.length === recordedIds.length - 2);
  assert.deepEqual(await restIds(), recordedIds);
  assert.deepEqual(withheld, recordedIds.slice(0, 2));
  assert.deepEqual(
    client.frames.map((f) => (f.data as RecordedTrade).t),
    recordedIds.slice(2),
  );
});
