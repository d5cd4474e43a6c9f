import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Candle } from '../shared/api-types.js';
import { dayHighLow } from '../shared/day-range.js';

const latest = Date.UTC(2024, 4, 1, 12, 0, 0);
const summary = { high24h: 100, low24h: 90, lastWindowStart: latest };

function candle(start: number, low: number, high: number): Candle {
  return {
    start,
    open: low,
    high,
    low,
    close: high,
    volume: 1,
    quoteVolume: 1,
    vwap: low,
    trades: 1,
    buyVolume: 1,
    sellVolume: 0,
    firstTradeId: 1,
    lastTradeId: 1,
    missingTrades: 0,
    isFinal: false,
  };
}

test("the summary's high and low when nothing newer goes beyond them", () => {
  assert.deepEqual(dayHighLow(summary, [candle(latest, 95, 99)], 97), { high: 100, low: 90 });
  assert.deepEqual(dayHighLow(summary, [], undefined), { high: 100, low: 90 });
});

test('the forming candle widens them: the window the summary saw grew, and newer ones', () => {
  assert.deepEqual(dayHighLow(summary, [candle(latest, 95, 101)], undefined), { high: 101, low: 90 });
  assert.deepEqual(dayHighLow(summary, [candle(latest, 95, 99), candle(latest + 10_000, 89.5, 99)], undefined), {
    high: 100,
    low: 89.5,
  });
});

test('the last trade widens them: the header never shows a price above its own 24 h high', () => {
  assert.deepEqual(dayHighLow(summary, [candle(latest, 95, 99)], 102.5), { high: 102.5, low: 90 });
  assert.deepEqual(dayHighLow(summary, [candle(latest, 95, 99)], 88), { high: 100, low: 88 });
});

test("candles before the summary's latest window are already in it, and may be older than 24 h", () => {
  // A 6 h chart holds candles the summary covers; a long-gone spike must not come back.
  const old = candle(latest - 30 * 3600_000, 10, 500);
  assert.deepEqual(dayHighLow(summary, [old, candle(latest - 10_000, 80, 120), candle(latest, 95, 99)], 97), {
    high: 100,
    low: 90,
  });
});
