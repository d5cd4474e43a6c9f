import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compareWindows, readInFull, type BenchWindow } from '../src/window-compare.js';

function window(symbol: string, startS: number, fields: Partial<BenchWindow> = {}): BenchWindow {
  return {
    symbol,
    windowStartMs: startS * 1000,
    open: 100.5,
    high: 101.25,
    low: 99.75,
    close: 100,
    volume: 3.5,
    quoteVolume: 350.875,
    buyVolume: 2,
    sellVolume: 1.5,
    trades: 7,
    firstTradeId: 10,
    lastTradeId: 16,
    ...fields,
  };
}

test('identical windows compare equal, in any order', () => {
  const reference = [window('BTCUSDT', 0), window('BTCUSDT', 10), window('ETHUSDT', 0)];
  const result = compareWindows(reference, [...reference].reverse());
  assert.deepEqual(result, { compared: 3, equal: 3, missing: 0, extra: 0, different: 0, examples: [] });
});

test('prices, counts and ids must match exactly', () => {
  const reference = [window('BTCUSDT', 0), window('ETHUSDT', 0)];
  const candidate = [
    window('BTCUSDT', 0, { close: 100.00000001 }),
    window('ETHUSDT', 0, { trades: 6, lastTradeId: 15 }),
  ];
  const result = compareWindows(reference, candidate);
  assert.equal(result.equal, 0);
  assert.equal(result.different, 2);
  assert.deepEqual(
    result.examples.map((e) => [e.window, e.field, e.expected, e.actual]),
    [
      ['BTCUSDT@1970-01-01T00:00:00.000Z', 'close', 100, 100.00000001],
      ['ETHUSDT@1970-01-01T00:00:00.000Z', 'trades', 7, 6],
      ['ETHUSDT@1970-01-01T00:00:00.000Z', 'lastTradeId', 16, 15],
    ],
  );
});

test('volumes agree within 1e-9 of the window total, not closer', () => {
  const reference = [window('BTCUSDT', 0, { volume: 1000, buyVolume: 1000, sellVolume: 0 })];
  const close = compareWindows(reference, [
    window('BTCUSDT', 0, { volume: 1000 * (1 + 5e-10), buyVolume: 1000, sellVolume: 1e-7 }),
  ]);
  assert.equal(close.equal, 1);
  const far = compareWindows(reference, [
    window('BTCUSDT', 0, { volume: 1000 * (1 + 2e-9), buyVolume: 1000, sellVolume: 0 }),
  ]);
  assert.equal(far.different, 1);
  assert.equal(far.examples[0]?.field, 'volume');
});

test('missing and extra windows are counted; include limits what is compared but not what is extra', () => {
  const reference = [window('BTCUSDT', 0), window('BTCUSDT', 10, { firstTradeId: 17, lastTradeId: 30 })];
  const candidate = [window('BTCUSDT', 0), window('SOLUSDT', 0)];
  const all = compareWindows(reference, candidate);
  assert.deepEqual([all.compared, all.equal, all.missing, all.extra], [2, 1, 1, 1]);
  const covered = compareWindows(reference, candidate, { include: (w) => w.lastTradeId <= 16 });
  assert.deepEqual([covered.compared, covered.equal, covered.missing, covered.extra], [1, 1, 0, 1]);
});

test('a prefix reader is compared on the windows it reached the end of, per symbol', () => {
  const reference = [
    window('BTCUSDT', 0, { firstTradeId: 1, lastTradeId: 7 }),
    window('BTCUSDT', 10, { firstTradeId: 8, lastTradeId: 14 }),
    window('ETHUSDT', 0, { firstTradeId: 1, lastTradeId: 7 }),
  ];
  // BTCUSDT read up to trade 10 (its second window in part); ETHUSDT not at all.
  const candidate = [
    window('BTCUSDT', 0, { firstTradeId: 1, lastTradeId: 7 }),
    window('BTCUSDT', 10, { firstTradeId: 8, lastTradeId: 10, trades: 3 }),
  ];
  const include = readInFull(candidate);
  assert.deepEqual(
    reference.map((w) => include(w)),
    [true, false, false],
  );
  const result = compareWindows(reference, candidate, { include });
  assert.deepEqual([result.compared, result.equal, result.missing, result.extra], [1, 1, 0, 0]);
});
