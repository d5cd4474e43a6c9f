import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseUnits } from '@candleflow/common/decimal';
import {
  aggregateTrades,
  TumblingWindows,
  WindowAggregate,
  windowStart,
  type Trade,
  type WindowRow,
} from '../src/tumbling-window.js';
import {
  assertWindowsMatch,
  randomDecimal,
  referenceWindows,
  seededRandom,
  type RefTrade,
  type RefWindow,
} from './support/reference-windows.js';

const W = 10_000;
const T0 = 1_714_521_600_000; // 2024-05-01T00:00:00Z, a window boundary

function trade(
  tradeId: number,
  tradeTimeMs: number,
  price = '100',
  qty = '1',
  isBuyerMaker = false,
  symbol = 'BTCUSDT',
): Trade {
  return { symbol, tradeId, price: parseUnits(price), qty: parseUnits(qty), tradeTimeMs, isBuyerMaker };
}

function engine(settings: Partial<{ windowMs: number; graceMs: number; idleMs: number }> = {}): TumblingWindows {
  return new TumblingWindows({ windowMs: W, graceMs: 2000, idleMs: 3000, ...settings });
}

const summary = (rows: WindowRow[]): string[] =>
  rows.map((r) => `${r.symbol}@${(r.windowStartMs - T0) / 1000}:${r.trades}${r.isFinal ? ':final' : ''}`);

describe('windowStart', () => {
  test('windows cover [start, start + size)', () => {
    assert.equal(windowStart(T0, W), T0);
    assert.equal(windowStart(T0 + 9_999, W), T0);
    assert.equal(windowStart(T0 + 10_000, W), T0 + W);
    assert.equal(windowStart(T0 - 1, W), T0 - W);
  });
});

describe('WindowAggregate', () => {
  test('open and close are the earliest and latest by (time, id), whatever the arrival order', () => {
    const w = new WindowAggregate('BTCUSDT', T0);
    w.add(trade(7, T0 + 500, '103'));
    w.add(trade(5, T0 + 100, '101'));
    w.add(trade(6, T0 + 100, '102')); // same time as id 5: id breaks the tie
    w.add(trade(9, T0 + 900, '99'));
    w.add(trade(8, T0 + 900, '98'));
    const row = w.row(false);
    assert.equal(row.open, '101');
    assert.equal(row.close, '99');
    assert.equal(row.high, '103');
    assert.equal(row.low, '98');
    assert.equal(row.firstTradeId, 5);
    assert.equal(row.lastTradeId, 9);
    assert.equal(row.trades, 5);
    assert.equal(row.missingTrades, 0);
    assert.equal(row.isFinal, false);
  });

  test('missing trades are the ids between the first and the last that the window lacks', () => {
    const w = new WindowAggregate('BTCUSDT', T0);
    for (const id of [100, 101, 104, 110]) w.add(trade(id, T0 + id, '1'));
    w.add(trade(104, T0 + 104, '1'));
    assert.equal(w.row(false).missingTrades, 7, '102, 103, 105-109');
    for (const id of [102, 103, 105, 106, 107, 108, 109]) w.add(trade(id, T0 + id, '1'));
    assert.equal(w.row(true).missingTrades, 0, 'a repair that fills them');
  });

  test('volumes are exact sums; buy volume is taker-buy (m = false)', () => {
    const w = new WindowAggregate('ETHUSDT', T0);
    w.add(trade(1, T0, '0.1', '0.1', false));
    w.add(trade(2, T0 + 1, '0.2', '0.2', true));
    w.add(trade(3, T0 + 2, '0.3', '0.00000001', false));
    const row = w.row(true);
    assert.equal(row.volume, 0.30000001);
    assert.equal(row.quoteVolume, 0.050000003); // 0.01 + 0.04 + 0.000000003
    assert.equal(row.buyVolume, 0.10000001);
    assert.equal(row.sellVolume, 0.2);
    assert.equal(row.vwap, 0.16666667111111097); // 0.050000003 / 0.30000001 = 0.166666671111110962..., rounded once
    assert.equal(row.isFinal, true);
  });

  test('ten thousand 0.1 quantities sum to exactly 1000', () => {
    const w = new WindowAggregate('BTCUSDT', T0);
    for (let i = 0; i < 10_000; i++) w.add(trade(i, T0 + (i % W), '3', '0.1', i % 2 === 0));
    const row = w.row(false);
    assert.equal(row.volume, 1000);
    assert.equal(row.quoteVolume, 3000);
    assert.equal(row.buyVolume, 500);
    assert.equal(row.sellVolume, 500);
    assert.equal(row.vwap, 3);
  });

  test('a trade id already in the window changes nothing', () => {
    const w = new WindowAggregate('BTCUSDT', T0);
    assert.equal(w.add(trade(1, T0, '100', '2')), true);
    const before = w.row(false);
    assert.equal(w.add(trade(1, T0, '100', '2')), false);
    assert.deepEqual(w.row(false), before);
    assert.equal(w.trades, 1);
  });

  test('prices are written by value, without trailing zeros; comparisons are by value', () => {
    const w = new WindowAggregate('BTCUSDT', T0);
    w.add(trade(1, T0, '65000.10000000'));
    w.add(trade(2, T0 + 1, '65000.09999999'));
    w.add(trade(3, T0 + 2, '65000.1'));
    const row = w.row(false);
    assert.deepEqual([row.open, row.high, row.low, row.close], ['65000.1', '65000.1', '65000.09999999', '65000.1']);
  });

  test('a window traded at one price has exactly that vwap', () => {
    const w = new WindowAggregate('OMGBUSD', T0);
    w.add(trade(1, T0, '13.76040000', '27.00000000'));
    w.add(trade(2, T0 + 1, '13.76040000', '1.25000000'));
    assert.equal(w.row(true).vwap, 13.7604);
    assert.notEqual(388.7313 / 28.25, 13.7604, 'which dividing the float sums would not give');
  });

  test('a window of zero-quantity trades has its close as vwap', () => {
    const w = new WindowAggregate('BTCUSDT', T0);
    w.add(trade(1, T0, '100', '0'));
    w.add(trade(2, T0 + 1, '101', '0'));
    assert.equal(w.row(false).vwap, 101);
  });

  test('an empty window has no row', () => {
    assert.throws(() => new WindowAggregate('BTCUSDT', T0).row(true), /has no trades/);
  });
});

describe('aggregateTrades', () => {
  test('one row per (symbol, window), in window order; the boundary belongs to the next window', () => {
    const rows = aggregateTrades(
      [trade(1, T0 + W, '1', '1', false, 'ETHUSDT'), trade(2, T0 + W - 1), trade(3, T0 + W), trade(4, T0)],
      W,
      true,
    );
    assert.deepEqual(summary(rows), ['BTCUSDT@0:2:final', 'BTCUSDT@10:1:final', 'ETHUSDT@10:1:final']);
  });
});

describe('TumblingWindows', () => {
  test('a window closes when a trade grace past its end arrives on its partition, not before', () => {
    const e = engine();
    e.add(0, 0, trade(1, T0 + 1000), 0);
    e.add(0, 1, trade(2, T0 + W + 1999), 0);
    assert.deepEqual(e.takeFinalRows(), []);
    e.add(0, 2, trade(3, T0 + W + 2000), 0);
    assert.deepEqual(summary(e.takeFinalRows()), ['BTCUSDT@0:1:final']);
    assert.deepEqual(e.takeFinalRows(), [], 'final rows are taken once');
  });

  test('watermarks are per partition', () => {
    const e = engine();
    e.add(0, 0, trade(1, T0, '1', '1', false, 'BTCUSDT'), 0);
    e.add(1, 0, trade(2, T0 + 5 * W, '1', '1', false, 'ETHUSDT'), 0);
    assert.deepEqual(e.takeFinalRows(), []);
    assert.equal(e.openWindowCount(), 2);
  });

  test('all symbols of a partition share its watermark', () => {
    const e = engine();
    e.add(0, 0, trade(1, T0, '1', '1', false, 'BTCUSDT'), 0);
    e.add(0, 1, trade(1, T0 + 100, '1', '1', false, 'ETHUSDT'), 0);
    e.add(0, 2, trade(2, T0 + W + 2000, '1', '1', false, 'ETHUSDT'), 0);
    assert.deepEqual(summary(e.takeFinalRows()), ['BTCUSDT@0:1:final', 'ETHUSDT@0:1:final']);
  });

  test('a quiet partition closes its windows after idleMs of wall time', () => {
    const e = engine({ idleMs: 3000 });
    e.add(0, 0, trade(1, T0), 1_000);
    e.add(0, 1, trade(2, T0 + W), 1_500);
    e.add(1, 0, trade(3, T0, '1', '1', false, 'ETHUSDT'), 4_000);
    e.closeIdle(4_499);
    assert.deepEqual(e.takeFinalRows(), []);
    e.closeIdle(4_500);
    assert.deepEqual(summary(e.takeFinalRows()), ['BTCUSDT@0:1:final', 'BTCUSDT@10:1:final']);
    assert.equal(e.openWindowCount(), 1, 'the other partition traded recently');
  });

  test('touchAll restarts the idle clocks', () => {
    const e = engine({ idleMs: 3000 });
    e.add(0, 0, trade(1, T0), 0);
    e.touchAll(2_000);
    e.closeIdle(4_000);
    assert.deepEqual(e.takeFinalRows(), []);
    e.closeIdle(5_000);
    assert.equal(e.takeFinalRows().length, 1);
  });

  test('a trade for a window closed by the watermark is late and names its window', () => {
    const e = engine();
    e.add(0, 0, trade(1, T0), 0);
    e.add(0, 1, trade(2, T0 + W + 2000), 0);
    e.takeFinalRows();
    assert.equal(e.add(0, 2, trade(3, T0 + 9_999), 0), 'late');
    assert.equal(e.add(0, 3, trade(4, T0 + 5), 0), 'late');
    assert.deepEqual(e.takeLateWindows(), [{ symbol: 'BTCUSDT', windowStartMs: T0 }]);
    assert.deepEqual(e.takeLateWindows(), []);
    assert.deepEqual(e.takeFinalRows(), [], 'a late trade does not reopen its window');
  });

  test('a trade behind the watermark is late even if its window never opened', () => {
    const e = engine();
    e.add(0, 0, trade(1, T0 + 3 * W), 0);
    assert.equal(e.add(0, 1, trade(1, T0, '1', '1', false, 'ETHUSDT'), 0), 'late');
    assert.deepEqual(e.takeLateWindows(), [{ symbol: 'ETHUSDT', windowStartMs: T0 }]);
  });

  test('after an idle close, a trade in the last window is late; one in a new window is not', () => {
    const e = engine({ idleMs: 3000 });
    e.add(0, 0, trade(1, T0 + 1000), 0);
    e.closeIdle(3000);
    assert.equal(e.takeFinalRows().length, 1);
    assert.equal(e.add(0, 1, trade(2, T0 + 2000), 3500), 'late');
    assert.equal(e.add(0, 2, trade(3, T0 + W), 3500), 'added');
  });

  test('windows known final from storage make their trades late', () => {
    const e = engine();
    e.markFinalThrough('BTCUSDT', T0 + W);
    e.markFinalThrough('BTCUSDT', T0); // never lowers
    assert.equal(e.add(0, 0, trade(1, T0 + W + 5), 0), 'late');
    assert.equal(e.add(0, 1, trade(2, T0 + 2 * W), 0), 'added');
    assert.equal(e.add(0, 2, trade(3, T0 + W, '1', '1', false, 'ETHUSDT'), 0), 'added');
  });

  test('re-delivered trades are duplicates, counted once', () => {
    const e = engine();
    assert.equal(e.add(0, 0, trade(1, T0, '100', '1'), 0), 'added');
    assert.equal(e.add(0, 1, trade(1, T0, '100', '1'), 0), 'duplicate');
    assert.deepEqual(summary(e.takeOpenRows()), ['BTCUSDT@0:1']);
  });

  test('open rows are the windows that changed since the last take', () => {
    const e = engine();
    e.add(0, 0, trade(1, T0), 0);
    e.add(0, 1, trade(1, T0 + W, '1', '1', false, 'ETHUSDT'), 0);
    assert.deepEqual(summary(e.takeOpenRows()), ['BTCUSDT@0:1', 'ETHUSDT@10:1']);
    assert.deepEqual(e.takeOpenRows(), []);
    e.add(0, 2, trade(2, T0 + 1), 0);
    assert.deepEqual(summary(e.takeOpenRows()), ['BTCUSDT@0:2']);
    e.add(0, 3, trade(2, T0 + 1), 0);
    assert.deepEqual(e.takeOpenRows(), [], 'a duplicate is no change');
  });

  test('the first needed position is the earliest open window, and moves as windows close', () => {
    const e = engine();
    assert.equal(e.firstNeededPosition(0), undefined);
    e.add(0, 10, trade(1, T0), 0);
    e.add(0, 11, trade(2, T0 + W), 0);
    e.add(0, 12, trade(3, T0 + 1), 0);
    assert.equal(e.firstNeededPosition(0), 10);
    e.add(0, 13, trade(4, T0 + W + 2000), 0);
    assert.equal(e.firstNeededPosition(0), 11);
    e.add(0, 14, trade(5, T0 + 3 * W), 0);
    assert.equal(e.firstNeededPosition(0), 14);
    e.closeIdle(10_000);
    assert.equal(e.firstNeededPosition(0), undefined);
  });

  test('a dropped partition forgets its windows and watermark', () => {
    const e = engine();
    e.add(0, 0, trade(1, T0 + 5 * W), 0);
    e.dropPartition(0);
    assert.equal(e.openWindowCount(), 0);
    assert.equal(e.add(0, 0, trade(2, T0), 0), 'added');
  });

  test('settings are checked', () => {
    assert.throws(() => engine({ windowMs: 0 }), /windowMs must be positive/);
    assert.throws(() => engine({ graceMs: -1 }), /graceMs must be a non-negative integer/);
    assert.throws(() => engine({ idleMs: 1.5 }), /idleMs must be a non-negative integer/);
  });

  test('random streams with disorder, duplicates and idle gaps end in the reference windows', () => {
    for (let seed = 1; seed <= 30; seed++) {
      const random = seededRandom(seed);
      const symbols = ['BTCUSDT', 'ETHUSDT', 'BNBUSDT'];
      const ids = new Map(symbols.map((s) => [s, 1000]));
      const all: RefTrade[] = [];
      for (let i = 0; i < 400; i++) {
        const symbol = symbols[Math.floor(random() * symbols.length)] ?? 'BTCUSDT';
        const id = (ids.get(symbol) ?? 0) + 1;
        ids.set(symbol, id);
        // Time mostly advances, sometimes jumps back up to 4 s (out of order within the grace, or late).
        const timeMs = T0 + i * 150 - (random() < 0.2 ? Math.floor(random() * 4000) : 0);
        all.push({
          symbol,
          id,
          price: randomDecimal(random, 90, 110),
          qty: randomDecimal(random, 0.00000001, 3),
          timeMs,
          buyerIsMaker: random() < 0.5,
        });
      }
      const partitionOf = (symbol: string): number => (symbol === 'BTCUSDT' ? 0 : 1);
      const e = engine({ graceMs: Math.floor(random() * 3000), idleMs: 3000 });
      const rows = new Map<string, WindowRow>();
      const keep = (row: WindowRow): void => {
        rows.set(`${row.symbol}@${row.windowStartMs}`, row);
      };
      const seen: Trade[] = [];
      let wall = 0;
      let position = 0;
      for (const t of all) {
        const copies = random() < 0.1 ? 2 : 1; // re-delivery
        for (let c = 0; c < copies; c++) {
          const input = trade(t.id, t.timeMs, t.price, t.qty, t.buyerIsMaker, t.symbol);
          seen.push(input);
          e.add(partitionOf(t.symbol), position++, input, wall);
        }
        wall += random() < 0.02 ? 5000 : 10;
        e.closeIdle(wall);
        e.takeFinalRows().forEach(keep);
        // What the service does with late windows: recompute them from every stored trade.
        for (const late of e.takeLateWindows()) {
          const inWindow = seen.filter(
            (s) => s.symbol === late.symbol && windowStart(s.tradeTimeMs, W) === late.windowStartMs,
          );
          aggregateTrades(inWindow, W, true).forEach(keep);
        }
      }
      e.closeIdle(wall + 3000);
      e.takeFinalRows().forEach(keep);
      assert.equal(e.openWindowCount(), 0);

      const actual: RefWindow[] = [...rows.values()]
        .map((r) => ({
          ...r,
          windowStart: r.windowStartMs / 1000,
          open: Number(r.open),
          high: Number(r.high),
          low: Number(r.low),
          close: Number(r.close),
        }))
        .sort((a, b) => a.symbol.localeCompare(b.symbol) || a.windowStart - b.windowStart);
      assert.ok(
        actual.every((r) => rows.get(`${r.symbol}@${r.windowStart * 1000}`)?.isFinal),
        `seed ${seed}: every row final`,
      );
      assertWindowsMatch(actual, referenceWindows(all, W / 1000));
    }
  });
});
