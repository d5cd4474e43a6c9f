import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Candle } from '../shared/api-types.js';
import { CandleSeries } from '../shared/candle-series.js';

function candle(start: number, close = 1, state: { trades?: number; isFinal?: boolean } = {}): Candle {
  return {
    start,
    open: 1,
    high: 2,
    low: 0.5,
    close,
    volume: 1,
    quoteVolume: 1,
    vwap: 1,
    trades: state.trades ?? 1,
    buyVolume: 1,
    sellVolume: 0,
    firstTradeId: 1,
    lastTradeId: 1,
    missingTrades: 0,
    isFinal: state.isFinal ?? true,
  };
}

const starts = (series: CandleSeries) => series.candles.map((c) => c.start);

test('merges candles in any order into one per start, oldest first', () => {
  const series = new CandleSeries(60_000, 10_000);
  assert.equal(series.merge([candle(20_000), candle(0), candle(10_000)]), true);
  assert.deepEqual(starts(series), [0, 10_000, 20_000]);
  assert.equal(series.merge([candle(10_000, 7)]), true);
  assert.equal(series.candles[1]?.close, 7);
  assert.deepEqual(starts(series), [0, 10_000, 20_000]);
});

test('reports no change when nothing differs', () => {
  const series = new CandleSeries(60_000, 10_000);
  series.merge([candle(0), candle(10_000)]);
  const before = series.candles;
  assert.equal(series.merge([candle(10_000)]), false);
  assert.equal(series.candles, before, 'the same array, so React and Plotly skip work');
});

test('keeps only the range ending with the newest candle', () => {
  const series = new CandleSeries(30_000, 10_000);
  series.merge([candle(0), candle(10_000), candle(20_000)]);
  series.merge([candle(30_000)]);
  assert.deepEqual(starts(series), [10_000, 20_000, 30_000]);
  series.merge([candle(0)]);
  assert.deepEqual(starts(series), [10_000, 20_000, 30_000], 'an old candle arriving late stays out');
  assert.equal(series.newest?.start, 30_000);
});

test('an earlier state of a window never replaces a later one', () => {
  const series = new CandleSeries(60_000, 10_000);
  series.merge([candle(0, 5, { trades: 9, isFinal: true })]);
  assert.equal(series.merge([candle(0, 4, { trades: 12, isFinal: false })]), false, 'open after final');
  series.merge([candle(10_000, 5, { trades: 9, isFinal: false })]);
  assert.equal(series.merge([candle(10_000, 4, { trades: 7, isFinal: false })]), false, 'fewer trades');
  assert.equal(series.merge([candle(10_000, 6, { trades: 10, isFinal: false })]), true, 'more trades');
  assert.equal(series.merge([candle(10_000, 6, { trades: 10, isFinal: true })]), true, 'closing');
  assert.deepEqual(
    series.candles.map((c) => [c.close, c.trades, c.isFinal]),
    [
      [5, 9, true],
      [6, 10, true],
    ],
  );
});

test('a window repaired to no missing trades replaces the one with the hole', () => {
  const series = new CandleSeries(60_000, 10_000);
  series.merge([{ ...candle(0), missingTrades: 10 }]);
  assert.equal(series.merge([{ ...candle(0), missingTrades: 0 }]), true);
  assert.equal(series.candles[0]?.missingTrades, 0);
});
