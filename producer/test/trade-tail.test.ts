import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { TailScan, type TailRecord } from '../src/trade-tail.js';

/** Builds a partition's log: each entry `[symbol, id]` or `[symbol, id, 'rest']`, offsets from 0. */
function log(entries: [string, number, 'rest'?][]): TailRecord[] {
  return entries.map(([symbol, tradeId, rest], offset) => ({
    offset,
    symbol,
    tradeId,
    rest: rest === 'rest',
    timestamp: 1_000 + offset,
  }));
}

/** Feeds `records` to the scan backwards in chunks of `size`, as the tail reader does, while it wants more. */
function scanBackwards(scan: TailScan, partition: number, records: TailRecord[], size: number): number {
  let end = records.length;
  let chunks = 0;
  while (end > 0 && scan.wanted.includes(partition)) {
    const start = Math.max(0, end - size);
    scan.addChunk(partition, records.slice(start, end), start === 0);
    end = start;
    chunks++;
  }
  return chunks;
}

const streamed = (symbol: string, from: number, to: number): [string, number][] =>
  Array.from({ length: to - from + 1 }, (_, i) => [symbol, from + i]);
const repaired = (symbol: string, from: number, to: number): [string, number, 'rest'][] =>
  Array.from({ length: to - from + 1 }, (_, i) => [symbol, from + i, 'rest']);

describe('TailScan', () => {
  test('a clean tail: the last id per symbol, no holes, found in the first chunk', () => {
    const scan = new TailScan(['AAA', 'BBB'], 1, () => 0);
    const records = log([...streamed('AAA', 1, 50), ...streamed('BBB', 7, 9), ...streamed('AAA', 51, 60)]);
    assert.equal(scanBackwards(scan, 0, records, 20), 1);
    assert.deepEqual(Object.fromEntries(scan.result()), {
      AAA: { kind: 'found', lastId: 60, holes: [] },
      BBB: { kind: 'found', lastId: 9, holes: [] },
    });
  });

  test('a symbol quieter than the rest is looked for further back, chunk by chunk', () => {
    const scan = new TailScan(['AAA', 'BBB'], 1, () => 0);
    const records = log([['BBB', 3], ...streamed('AAA', 1, 100)]);
    assert.equal(scanBackwards(scan, 0, records, 30), 4);
    assert.deepEqual(scan.result().get('BBB'), { kind: 'found', lastId: 3, holes: [] });
  });

  test('a hole whose repair had not begun (a reconnect just before the stop) is reported', () => {
    const scan = new TailScan(['AAA'], 1, () => 0);
    scanBackwards(scan, 0, log([...streamed('AAA', 1, 10), ...streamed('AAA', 20, 30)]), 100);
    assert.deepEqual(scan.result().get('AAA'), { kind: 'found', lastId: 30, holes: [{ from: 11, to: 19 }] });
  });

  test('a repair cut short: the rest of its hole is reported, reading back to the trade below it', () => {
    const scan = new TailScan(['AAA'], 1, () => 0);
    // Stream 1..100, a cut, stream from 401; the repair of 101..400 had published 101..250.
    const records = log([
      ...streamed('AAA', 1, 100),
      ...streamed('AAA', 401, 450),
      ...repaired('AAA', 101, 250),
      ...streamed('AAA', 451, 500),
    ]);
    // The last chunk holds the repaired trades but no streamed one below 251: read on.
    assert.equal(scanBackwards(scan, 0, records, 120), 3);
    assert.deepEqual(scan.result().get('AAA'), { kind: 'found', lastId: 500, holes: [{ from: 251, to: 400 }] });
  });

  test('a finished repair and later holes: only the open ones are reported', () => {
    const scan = new TailScan(['AAA'], 1, () => 0);
    const records = log([
      ...streamed('AAA', 1, 10),
      ...streamed('AAA', 21, 30),
      ...repaired('AAA', 11, 20),
      ...streamed('AAA', 31, 35),
      ['AAA', 37],
      ...streamed('AAA', 40, 45),
    ]);
    scanBackwards(scan, 0, records, 100);
    assert.deepEqual(scan.result().get('AAA'), {
      kind: 'found',
      lastId: 45,
      holes: [
        { from: 36, to: 36 },
        { from: 38, to: 39 },
      ],
    });
  });

  test('records of other keys, and of symbols not configured, are ignored', () => {
    const scan = new TailScan(['AAA'], 1, () => 0);
    const records = log([...streamed('AAA', 1, 5), ...streamed('ZZZ', 100, 200)]);
    records.push({ offset: records.length, symbol: undefined, tradeId: 0, rest: false, timestamp: 0 });
    scanBackwards(scan, 0, records, 50);
    assert.deepEqual(Object.fromEntries(scan.result()), { AAA: { kind: 'found', lastId: 5, holes: [] } });
  });

  test('a symbol never on its partition is absent; whole partition read: no time bound', () => {
    const scan = new TailScan(['AAA', 'NEW'], 1, () => 0);
    scanBackwards(scan, 0, log(streamed('AAA', 1, 30)), 10);
    assert.deepEqual(scan.result().get('NEW'), { kind: 'absent' });
  });

  test('bound reached before a symbol was found: absent, history not before the oldest record read', () => {
    const scan = new TailScan(['AAA', 'NEW'], 1, () => 0);
    const records = log(streamed('AAA', 1, 100));
    // The caller stops after two chunks (its bound) although NEW is still wanted.
    scan.addChunk(0, records.slice(80, 100), false);
    scan.addChunk(0, records.slice(60, 80), false);
    assert.deepEqual(scan.wanted, [0]);
    assert.deepEqual(scan.result().get('NEW'), { kind: 'absent', notBeforeMs: 1_060 });
  });

  test('each partition is searched only for the symbols hashed to it', () => {
    const scan = new TailScan(['AAA', 'BBB'], 2, (s) => (s === 'AAA' ? 0 : 1));
    scan.addChunk(0, log(streamed('AAA', 1, 3)), false);
    assert.deepEqual(scan.wanted, [1]);
    scan.addChunk(1, [], true);
    assert.deepEqual(scan.wanted, []);
    assert.deepEqual(Object.fromEntries(scan.result()), {
      AAA: { kind: 'found', lastId: 3, holes: [] },
      BBB: { kind: 'absent' },
    });
  });

  test('an empty topic: every symbol absent', () => {
    const scan = new TailScan(['AAA'], 3, () => 2);
    for (const p of [0, 1, 2]) scan.addChunk(p, [], true);
    assert.deepEqual(scan.result().get('AAA'), { kind: 'absent' });
  });
});
