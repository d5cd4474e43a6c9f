import assert from 'node:assert/strict';
import { test } from 'node:test';
import { depthUpdateEventSchema, tradeEventSchema } from '@candleflow/common/binance-events';
import { OrderBook } from '@candleflow/common/order-book';
import { MAX_LEVELS_PER_SIDE, SyntheticSymbol, tradeEventJson } from '../src/synthetic-symbol.js';
import { symbolProfile } from '../src/symbol-profile.js';

const T0 = 1_700_000_000_000;

function market(symbol = 'BTCUSDT', seed = 42): SyntheticSymbol {
  return new SyntheticSymbol(symbolProfile(symbol, seed), seed, T0);
}

function assertSane(book: OrderBook, where: string): void {
  const bids = book.top('bid');
  const asks = book.top('ask');
  assert.ok(bids.length >= 10 && bids.length < 1000, `${where}: ${bids.length} bid levels`);
  assert.ok(asks.length >= 10 && asks.length < 1000, `${where}: ${asks.length} ask levels`);
  const bestBid = Number(bids[0]?.[0]);
  const bestAsk = Number(asks[0]?.[0]);
  assert.ok(bestBid < bestAsk, `${where}: crossed book ${bestBid} >= ${bestAsk}`);
  for (const [, qty] of [...bids, ...asks]) assert.ok(Number(qty) > 0, `${where}: level with qty ${qty}`);
}

for (const symbol of ['BTCUSDT', 'ETHUSDT', 'PEPEUSDT']) {
  test(`${symbol}: thousands of diffs keep ids consecutive and the book sane, and rebuild the true book`, () => {
    const m = market(symbol);
    const first = m.depth(1000);
    const rebuilt = new OrderBook(symbol);
    rebuilt.loadSnapshot(first.lastUpdateId, first.bids, first.asks);
    assert.deepEqual(rebuilt.levels(), m.book().levels());
    let previousU = first.lastUpdateId;
    let sawDelete = false;
    let sawAdd = false;
    for (let step = 0; step < 3000; step++) {
      for (let t = 0; t < 5; t++) m.trade(T0 + step * 100);
      const diff = depthUpdateEventSchema.parse(m.diff(T0 + step * 100, 1 + (step % 40)));
      assert.equal(diff.U, previousU + 1, `step ${step}: U follows the previous u`);
      assert.ok(diff.u >= diff.U, `step ${step}: u >= U`);
      assert.equal(diff.E, T0 + step * 100);
      assert.ok(diff.b.length + diff.a.length > 0, `step ${step}: empty diff`);
      previousU = diff.u;
      for (const [price, qty] of [...diff.b, ...diff.a]) {
        if (Number(qty) === 0) sawDelete = true;
        else if (!rebuilt.bids.has(String(Number(price))) && !rebuilt.asks.has(String(Number(price)))) sawAdd = true;
      }
      rebuilt.applyDiff(diff.u, diff.b, diff.a);
      if (step % 250 === 0) {
        assertSane(rebuilt, `step ${step}`);
        assert.deepEqual(rebuilt.levels(), m.book().levels(), `step ${step}: diffs rebuild the true book`);
      }
    }
    assert.ok(sawDelete && sawAdd, 'levels appear and disappear');
    assertSane(rebuilt, 'end');
    assert.deepEqual(rebuilt.levels(), m.book().levels());
    assert.equal(rebuilt.lastUpdateId, m.lastUpdateId);
    const counts = m.levelCounts;
    assert.ok(counts.bids <= MAX_LEVELS_PER_SIDE && counts.asks <= MAX_LEVELS_PER_SIDE);
  });
}

test('a busy market (hundreds of changes per diff) still stays below 1000 levels and uncrossed', () => {
  const m = market('ETHUSDT', 3);
  const book = m.book();
  for (let step = 0; step < 1000; step++) {
    for (let t = 0; t < 200; t++) m.trade(T0);
    const diff = m.diff(T0, 400);
    book.applyDiff(diff.u, diff.b, diff.a);
  }
  assertSane(book, 'busy');
  assert.deepEqual(book.levels(), m.book().levels());
});

test('trades have consecutive ids, Binance fields, and print at the best bid or ask', () => {
  const m = market('BTCUSDT', 9);
  let previousId: number | undefined;
  let buys = 0;
  let sells = 0;
  for (let step = 0; step < 200; step++) {
    const book = m.book();
    const bestBid = book.bestBid()?.[0];
    const bestAsk = book.bestAsk()?.[0];
    for (let t = 0; t < 20; t++) {
      const trade = tradeEventSchema.parse(JSON.parse(tradeEventJson(m.symbol, m.trade(T0 + step))));
      assert.equal(trade.s, 'BTCUSDT');
      assert.equal(trade.T, T0 + step);
      if (previousId !== undefined) assert.equal(trade.t, previousId + 1);
      previousId = trade.t;
      assert.ok(Number(trade.q) > 0);
      assert.match(trade.p, /^\d+\.\d{8}$/);
      assert.equal(String(Number(trade.p)), trade.m ? bestBid : bestAsk);
      if (trade.m) sells++;
      else buys++;
    }
    m.diff(T0 + step, 5);
  }
  assert.ok(buys > 200 && sells > 200, `both taker sides occur (${buys} buys, ${sells} sells)`);
});

test("tradeEventJson writes a trade as Binance's @trade stream sends it", () => {
  const trade = { id: 7, price: '60000.12000000', qty: '0.00100000', time: T0, isBuyerMaker: true };
  assert.equal(
    tradeEventJson('BTCUSDT', trade),
    `{"e":"trade","E":${T0},"s":"BTCUSDT","t":7,"p":"60000.12000000","q":"0.00100000","T":${T0},"m":true,"M":true}`,
  );
});

test('the same seed gives the same market; another seed a different one', () => {
  const run = (seed: number): string[] => {
    const m = market('SOLUSDT', seed);
    const out: string[] = [];
    for (let step = 0; step < 50; step++) {
      out.push(JSON.stringify(m.trade(T0)));
      out.push(JSON.stringify(m.diff(T0, 7)));
    }
    out.push(JSON.stringify(m.depth(5000)));
    return out;
  };
  assert.deepEqual(run(5), run(5));
  assert.notDeepEqual(run(5), run(6));
});

test('price scales follow the asset: BTC ~6e4, ETH ~3e3, unknown coins ~1', () => {
  const mid = (symbol: string): number => Number(market(symbol).book().bestBid()?.[0]);
  assert.ok(Math.abs(mid('BTCUSDT') - 60_000) < 100);
  assert.ok(Math.abs(mid('ETHUSDT') - 3_000) < 10);
  const small = mid('ZZZUSDT');
  assert.ok(small > 0.1 && small < 6, `unknown coin at ${small}`);
});

test('depth(limit) returns the best levels, best first, at the current update id', () => {
  const m = market();
  m.diff(T0, 10);
  const full = m.depth(5000);
  const five = m.depth(5);
  assert.equal(five.lastUpdateId, m.lastUpdateId);
  assert.deepEqual(five.bids, full.bids.slice(0, 5));
  assert.deepEqual(five.asks, full.asks.slice(0, 5));
  const bidPrices = full.bids.map(([p]) => Number(p));
  const askPrices = full.asks.map(([p]) => Number(p));
  assert.deepEqual(
    bidPrices,
    [...bidPrices].sort((a, b) => b - a),
  );
  assert.deepEqual(
    askPrices,
    [...askPrices].sort((a, b) => a - b),
  );
});

test('the 24 h ticker sums the trades', () => {
  const m = market('ETHUSDT');
  const trades = Array.from({ length: 30 }, (_, i) =>
    tradeEventSchema.parse(JSON.parse(tradeEventJson(m.symbol, m.trade(T0 + i)))),
  );
  const ticker = m.ticker24hr();
  assert.equal(ticker.count, 30);
  assert.equal(ticker.firstId, trades[0]?.t);
  assert.equal(ticker.lastId, trades[29]?.t);
  assert.equal(ticker.lastPrice, trades[29]?.p);
  assert.equal(ticker.openPrice, trades[0]?.p);
  const volume = trades.reduce((sum, t) => sum + Number(t.q), 0);
  assert.equal(ticker.volume, volume.toFixed(8));
  assert.equal(ticker.closeTime, T0 + 29);
});
