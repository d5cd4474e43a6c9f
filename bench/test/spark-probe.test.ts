import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SPARK_PROBE_SYMBOL, probeLatency, probeTradeJson } from '../src/spark-probe.js';

test('a probe trade is a Binance trade event of the probe symbol', () => {
  assert.deepEqual(JSON.parse(probeTradeJson({ id: 7, timeMs: 1_700_000_000_123 })), {
    e: 'trade',
    E: 1_700_000_000_123,
    s: SPARK_PROBE_SYMBOL,
    t: 7,
    p: '1.00000000',
    q: '0.00100000',
    T: 1_700_000_000_123,
    m: false,
    M: true,
  });
});

test('latency counts the windows the watermark passed, from end + grace and from each trade', () => {
  // 10 s windows, 2 s grace; trades at 5 s, 15 s, 21 s and 25 s: the watermark reaches 23 s,
  // so [0, 10) (closes at 12 s) and [10, 20) (closes at 22 s) are final; [20, 30) cannot be.
  const trades = [
    { id: 1, timeMs: 5_000 },
    { id: 2, timeMs: 15_000 },
    { id: 3, timeMs: 21_000 },
    { id: 4, timeMs: 25_000 },
  ];
  const seen = new Map([
    [0, 12_500],
    [10_000, 23_000],
  ]);
  const latency = probeLatency(trades, seen, 10_000, 2_000);
  assert.deepEqual(latency.finalAfterClose, { count: 2, missing: 0, p50: 500, p99: 1_000, max: 1_000 });
  assert.deepEqual(latency.finalFromTrade, { count: 2, missing: 0, p50: 7_500, p99: 8_000, max: 8_000 });
});

test('a final window never seen counts as missing, not as fast', () => {
  const trades = [
    { id: 1, timeMs: 1_000 },
    { id: 2, timeMs: 13_000 },
  ];
  const latency = probeLatency(trades, new Map(), 10_000, 2_000);
  assert.equal(latency.finalAfterClose.count, 1);
  assert.equal(latency.finalAfterClose.missing, 1);
  assert.equal(latency.finalAfterClose.p99, Number.POSITIVE_INFINITY);
  assert.equal(latency.finalFromTrade.missing, 1);
});

test('no probe trades: nothing measured', () => {
  const latency = probeLatency([], new Map(), 10_000, 2_000);
  assert.equal(latency.finalAfterClose.count, 0);
  assert.equal(latency.finalFromTrade.count, 0);
});
