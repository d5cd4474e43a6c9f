import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Candle, Orderbook } from '../shared/api-types.js';
import { MIN_SPAN_MS, balancedLevels, depthFigure, missingTradesText, priceFigure } from '../shared/chart-figures.js';
import { depthCurve, spreadOf } from '../shared/depth-curve.js';

const candles: Candle[] = [0, 1, 2].map((i) => ({
  start: 1_714_564_800_000 + i * 10_000,
  open: 100 + i,
  high: 102 + i,
  low: 99 + i,
  close: 101 + i,
  volume: 3,
  quoteVolume: 300,
  vwap: 100.5 + i,
  trades: 4,
  buyVolume: 2,
  sellVolume: 1,
  firstTradeId: 1,
  lastTradeId: 4,
  missingTrades: 0,
  isFinal: i < 2,
}));

test('the price figure: candles, VWAP and stacked taker volume on a second axis', () => {
  const figure = priceFigure(candles, 'BTCUSDT:900000');
  const [price, vwap, buy, sell] = figure.data;
  const x = candles.map((c) => c.start);
  assert.deepEqual(
    [price?.type, price?.x, price?.open, price?.high, price?.low, price?.close],
    ['candlestick', x, [100, 101, 102], [102, 103, 104], [99, 100, 101], [101, 102, 103]],
  );
  assert.deepEqual([vwap?.type, vwap?.y], ['scatter', [100.5, 101.5, 102.5]]);
  assert.deepEqual([buy?.y, buy?.yaxis, sell?.y, sell?.yaxis], [[2, 2, 2], 'y2', [1, 1, 1], 'y2']);
  assert.equal(figure.layout.uirevision, 'BTCUSDT:900000');
  assert.equal(figure.layout.barmode, 'stack');
  assert.equal((figure.layout.xaxis as { type: string }).type, 'date');
});

test('a marker above each candle with missing trades, labelled, in the legend only then', () => {
  const holed = candles.map((c, i) => ({ ...c, missingTrades: [0, 12, 1][i] ?? 0 }));
  const marks = priceFigure(holed, 'BTCUSDT:900000').data[4];
  // 4 % of the shown price range (99 .. 104) above the high.
  assert.deepEqual(
    [marks?.name, marks?.x, marks?.y, marks?.text, marks?.customdata, marks?.showlegend],
    [
      'missing trades',
      [holed[1]?.start, holed[2]?.start],
      [103.2, 104.2],
      ['12', '1'],
      ['12 trades missing', '1 trade missing'],
      true,
    ],
  );
  const none = priceFigure(candles, 'BTCUSDT:900000').data[4];
  assert.deepEqual([none?.name, none?.x, none?.showlegend], ['missing trades', [], false]);
  assert.equal(missingTradesText(3), '3 trades missing');
});

test('a short history shows at least MIN_SPAN_MS, newest at the right; a longer one autoranges', () => {
  const last = candles.at(-1)?.start ?? 0;
  const short = priceFigure(candles, 'BTCUSDT:900000').layout.xaxis as { range?: number[]; autorange: boolean };
  assert.deepEqual([short.range, short.autorange], [[last - MIN_SPAN_MS, last + 15_000], false]);
  const long = Array.from({ length: 40 }, (_, i) => ({ ...candles[0], start: (candles[0]?.start ?? 0) + i * 10_000 }));
  const full = priceFigure(long as typeof candles, 'BTCUSDT:900000').layout.xaxis as {
    range?: number[];
    autorange: boolean;
  };
  assert.deepEqual([full.range, full.autorange], [undefined, true]);
});

const book: Orderbook = {
  symbol: 'BTCUSDT',
  lastUpdateId: 1,
  updateTime: 0,
  checkedAt: 0,
  bids: [
    [99, 1],
    [98, 2],
    [97, 3],
  ],
  asks: [
    [101, 0.5],
    [102, 0.5],
  ],
};

test('depth curves accumulate from the best level outwards', () => {
  assert.deepEqual(depthCurve(book.bids), { prices: [99, 98, 97], cumulative: [1, 3, 6] });
  assert.deepEqual(spreadOf(book.bids, book.asks), { mid: 100, spread: 2 });
  assert.equal(spreadOf([], book.asks), undefined);
});

test('the depth chart shows both sides equally far from the mid price', () => {
  assert.deepEqual(balancedLevels(book), {
    bids: [
      [99, 1],
      [98, 2],
    ],
    asks: book.asks,
    mid: 100,
  });
  const figure = depthFigure(book, 'BTCUSDT');
  assert.deepEqual(
    figure.data.map((t) => [t.name, t.x, t.y]),
    [
      ['Bids', [99, 98], [1, 3]],
      ['Asks', [101, 102], [0.5, 1]],
    ],
  );
  assert.deepEqual(
    depthFigure(undefined, 'X').data.map((t) => t.x),
    [[], []],
  );
});
