import assert from 'node:assert/strict';
import { test } from 'node:test';
import { rankTopUsdtPairs } from '../src/top-symbols.js';

const tickers = [
  { symbol: 'BTCUSDT', quoteVolume: '1500000000.5', count: 1 },
  { symbol: 'ETHBTC', quoteVolume: '9999999999999' },
  { symbol: 'SOLUSDT', quoteVolume: '300000000' },
  { symbol: 'ETHUSDT', quoteVolume: '900000000' },
  { symbol: 'DEADUSDT', quoteVolume: '0.00000000' },
  { symbol: 'BUSDUSDT', quoteVolume: '300000000' },
  { symbol: 'USDTTRY', quoteVolume: '8000000000' },
];

test('ranks USDT-quoted pairs by 24 h quote volume, ties by name', () => {
  assert.deepEqual(rankTopUsdtPairs(tickers, 3), ['BTCUSDT', 'ETHUSDT', 'BUSDUSDT']);
  assert.deepEqual(rankTopUsdtPairs(tickers, 10), ['BTCUSDT', 'ETHUSDT', 'BUSDUSDT', 'SOLUSDT', 'DEADUSDT']);
});

test('an answer that is not a ticker list is an error naming the field', () => {
  assert.throws(() => rankTopUsdtPairs({ code: -1003, msg: 'Too many requests' }, 3), /unexpected ticker\/24hr answer/);
  assert.throws(() => rankTopUsdtPairs([{ symbol: 'BTCUSDT', quoteVolume: 5 }], 3), /0\.quoteVolume/);
});
