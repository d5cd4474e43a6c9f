import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { combinedStreamUrl, planConnections } from '../src/stream-plan.js';

describe('planConnections', () => {
  test('few symbols share one connection, two streams each', () => {
    assert.deepEqual(planConnections(['BTCUSDT', 'ETHUSDT'], 1024), [
      {
        symbols: ['BTCUSDT', 'ETHUSDT'],
        streams: ['btcusdt@trade', 'btcusdt@depth@100ms', 'ethusdt@trade', 'ethusdt@depth@100ms'],
      },
    ]);
  });

  test('past the per-connection limit, symbols split over several connections, never a symbol across two', () => {
    const symbols = Array.from({ length: 7 }, (_, i) => `S${i}USDT`);
    const plans = planConnections(symbols, 5);
    assert.deepEqual(
      plans.map((p) => p.symbols),
      [['S0USDT', 'S1USDT'], ['S2USDT', 'S3USDT'], ['S4USDT', 'S5USDT'], ['S6USDT']],
    );
    assert.ok(plans.every((p) => p.streams.length <= 5));
  });

  test('1024 streams per connection take 512 symbols', () => {
    const symbols = Array.from({ length: 1025 }, (_, i) => `S${i}USDT`);
    assert.deepEqual(
      planConnections(symbols, 1024).map((p) => p.streams.length),
      [1024, 1024, 2],
    );
  });

  test('fewer than two streams per connection cannot work', () => {
    assert.throws(() => planConnections(['BTCUSDT'], 1), /at least 2 streams/);
  });

  test('combinedStreamUrl joins streams onto the base URL', () => {
    assert.equal(
      combinedStreamUrl('wss://stream.binance.com:9443/', ['a@trade', 'a@depth@100ms']),
      'wss://stream.binance.com:9443/stream?streams=a@trade/a@depth@100ms',
    );
  });
});
