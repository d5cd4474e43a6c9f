import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { TradeContinuity } from '../src/trade-continuity.js';

describe('TradeContinuity', () => {
  test('consecutive ids publish; a jump publishes and names the hole; a repeat or older id is skipped', () => {
    const c = new TradeContinuity();
    assert.deepEqual(c.onStreamTrade('BTCUSDT', 10), { action: 'publish' });
    assert.deepEqual(c.onStreamTrade('BTCUSDT', 11), { action: 'publish' });
    assert.deepEqual(c.onStreamTrade('BTCUSDT', 15), { action: 'publish', hole: { from: 12, to: 14 } });
    assert.deepEqual(c.onStreamTrade('BTCUSDT', 15), { action: 'skip' });
    assert.deepEqual(c.onStreamTrade('BTCUSDT', 13), { action: 'skip' });
    assert.deepEqual(c.onStreamTrade('BTCUSDT', 16), { action: 'publish' });
  });

  test('symbols are independent', () => {
    const c = new TradeContinuity();
    c.onStreamTrade('BTCUSDT', 100);
    assert.deepEqual(c.onStreamTrade('ETHUSDT', 5), { action: 'publish' });
    assert.deepEqual(c.onStreamTrade('BTCUSDT', 101), { action: 'publish' });
    assert.deepEqual(c.onStreamTrade('ETHUSDT', 7), { action: 'publish', hole: { from: 6, to: 6 } });
  });

  test('after a restart: the topic tail is the last id; the stream resumes past it with the hole between', () => {
    const c = new TradeContinuity();
    c.start('BTCUSDT', { kind: 'after', lastId: 1000 });
    assert.deepEqual(c.onStreamTrade('BTCUSDT', 999), { action: 'skip' });
    assert.deepEqual(c.onStreamTrade('BTCUSDT', 1000), { action: 'skip' });
    assert.deepEqual(c.onStreamTrade('BTCUSDT', 1500), { action: 'publish', hole: { from: 1001, to: 1499 } });
  });

  test('after a restart with nothing lost: no hole', () => {
    const c = new TradeContinuity();
    c.start('BTCUSDT', { kind: 'after', lastId: 1000 });
    assert.deepEqual(c.onStreamTrade('BTCUSDT', 1001), { action: 'publish' });
  });

  test('a symbol new to the topic asks once for its history before the first streamed trade', () => {
    const c = new TradeContinuity();
    c.start('SOLUSDT', { kind: 'since', ms: 5_000 });
    assert.deepEqual(c.onStreamTrade('SOLUSDT', 42), {
      action: 'publish',
      backfill: { sinceMs: 5_000, beforeId: 42 },
    });
    assert.deepEqual(c.onStreamTrade('SOLUSDT', 43), { action: 'publish' });
    assert.deepEqual(c.onStreamTrade('SOLUSDT', 45), { action: 'publish', hole: { from: 44, to: 44 } });
  });

  test('fresh: the first streamed trade starts the symbol, nothing before it is asked for', () => {
    const c = new TradeContinuity();
    c.start('SOLUSDT', { kind: 'fresh' });
    assert.deepEqual(c.onStreamTrade('SOLUSDT', 42), { action: 'publish' });
    assert.deepEqual(c.onStreamTrade('SOLUSDT', 42), { action: 'skip' });
  });
});
