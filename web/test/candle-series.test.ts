import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Candle } from '../shared/api-types.js';
import { CandleSeries } from '../shared/candle-series.js';

function candle(start: number, close = 1): Candle {
  return {
    start,
    open: 1,
    high: 2,
    low: 0.5,
    close,
    volume: 1,
    quoteVolume: 1,
    vwap: 1,
    trades: 1,
    buyVolume: 1,
    sellVolume: 0,
    firstTradeId: 1,
    lastTradeId: 1,
    isFinal: true,
  };
}

const starts = (series: CandleSeries) => series.candles.map((c) => c.start);

test('merges candles in any order into one per start, oldest first', () => {
  const series = new CandleSeries(60_000);
  assert.equal(series.merge([candle(20_000), candle(0), candle(10_000)]), true);
  assert.deepEqual(starts(series), [0, 10_000, 20_000]);
  assert.equal(series.merge([candle(10_000, 7)]), true);
  assert.equal(series.candles[1]?.close, 7);
  assert.deepEqual(starts(series), [0, 10_000, 20_000]);
});

test('reports no change when nothing differs', () => {
  const series = new CandleSeries(60_000);
  series.merge([candle(0), candle(10_000)]);
  const before = series.candles;
  assert.equal(series.merge([candle(10_000)]), false);
  assert.equal(series.candles, before, 'the same array, so React and Plotly skip work');
});

test('keeps only the range ending with the newest candle', () => {
  const series = new CandleSeries(30_000);
  series.merge([candle(0), candle(10_000), candle(20_000)]);
  series.merge([candle(30_000)]);
  assert.deepEqual(starts(series), [10_000, 20_000, 30_000]);
  series.merge([candle(0)]);
  assert.deepEqual(starts(series), [10_000, 20_000, 30_000], 'an old candle arriving late stays out');
  assert.equal(series.newest?.start, 30_000);
});
