import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Candle } from '../shared/api-types.js';
import { SentCandles, signCandles } from '../server/candle-changes.js';

function candle(start: number, close: number, isFinal = true): Candle {
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
    missingTrades: 0,
    isFinal,
  };
}

test('the first take is everything, oldest first', () => {
  const sent = new SentCandles();
  assert.deepEqual(sent.take(signCandles([candle(20, 1), candle(10, 1)])), [candle(10, 1), candle(20, 1)]);
});

test('later takes are only new and rewritten candles', () => {
  const sent = new SentCandles();
  sent.take(signCandles([candle(10, 1), candle(20, 1, false)]));
  assert.deepEqual(sent.take(signCandles([candle(10, 1), candle(20, 1, false)])), []);
  assert.deepEqual(sent.take(signCandles([candle(10, 1), candle(20, 2, false)])), [candle(20, 2, false)]);
  assert.deepEqual(sent.take(signCandles([candle(10, 1), candle(20, 2, true), candle(30, 5, false)])), [
    candle(20, 2, true),
    candle(30, 5, false),
  ]);
});

test('candles that left the recent set are forgotten, and sent again if they come back', () => {
  const sent = new SentCandles();
  sent.take(signCandles([candle(10, 1), candle(20, 1)]));
  assert.deepEqual(sent.take(signCandles([candle(20, 1)])), []);
  assert.deepEqual(sent.take(signCandles([candle(10, 1), candle(20, 1)])), [candle(10, 1)]);
});

test('a window whose missing trades were repaired is sent again, even when nothing else differs', () => {
  const sent = new SentCandles();
  const holed = { ...candle(10, 1), missingTrades: 10 };
  sent.take(signCandles([holed]));
  assert.deepEqual(sent.take(signCandles([{ ...holed, missingTrades: 0 }])), [{ ...holed, missingTrades: 0 }]);
});
