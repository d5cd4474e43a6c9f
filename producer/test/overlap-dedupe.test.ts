import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { OverlapDedupe, type RangedItem } from '../src/overlap-dedupe.js';

const t = (id: number, stream = 'BTCUSDT@trade'): RangedItem => ({ stream, first: id, last: id });
const d = (first: number, last: number, stream = 'BTCUSDT@depth'): RangedItem => ({ stream, first, last });
const ids = (items: RangedItem[]): string[] => items.map((i) => `${i.stream}:${i.first}-${i.last}`);

describe('OverlapDedupe', () => {
  test('one connection: everything passes, repeats are dropped', () => {
    const dedupe = new OverlapDedupe();
    assert.deepEqual(ids(dedupe.offer('primary', t(1))), ['BTCUSDT@trade:1-1']);
    assert.deepEqual(ids(dedupe.offer('primary', t(2))), ['BTCUSDT@trade:2-2']);
    assert.deepEqual(ids(dedupe.offer('primary', t(2))), []);
    assert.deepEqual(ids(dedupe.offer('primary', t(5))), ['BTCUSDT@trade:5-5']);
    assert.equal(dedupe.duplicates, 1);
  });

  test('renewal, new connection behind the old: its repeats are dropped, its continuation passes', () => {
    const dedupe = new OverlapDedupe();
    for (const id of [1, 2, 3, 4]) dedupe.offer('primary', t(id));
    assert.deepEqual(ids(dedupe.offer('secondary', t(3))), []);
    assert.deepEqual(ids(dedupe.offer('secondary', t(4))), []);
    assert.deepEqual(ids(dedupe.offer('secondary', t(5))), ['BTCUSDT@trade:5-5']);
    assert.deepEqual(ids(dedupe.offer('primary', t(5))), []);
    assert.deepEqual(ids(dedupe.promote()), []);
    assert.equal(dedupe.duplicates, 3);
  });

  test('renewal, new connection ahead of the old: held until the old catches up, order kept', () => {
    const dedupe = new OverlapDedupe();
    dedupe.offer('primary', t(10));
    assert.deepEqual(ids(dedupe.offer('secondary', t(12))), []);
    assert.deepEqual(ids(dedupe.offer('secondary', t(13))), []);
    assert.equal(dedupe.heldCount, 2);
    assert.deepEqual(ids(dedupe.offer('primary', t(11))), [
      'BTCUSDT@trade:11-11',
      'BTCUSDT@trade:12-12',
      'BTCUSDT@trade:13-13',
    ]);
    assert.deepEqual(ids(dedupe.offer('primary', t(12))), []);
    assert.equal(dedupe.heldCount, 0);
  });

  test('promote releases what is held, in order, skipping what the old connection already sent', () => {
    const dedupe = new OverlapDedupe();
    dedupe.offer('primary', d(1, 5));
    dedupe.offer('secondary', d(9, 10));
    dedupe.offer('secondary', d(11, 11));
    dedupe.offer('primary', d(6, 7));
    assert.deepEqual(ids(dedupe.promote()), ['BTCUSDT@depth:9-10', 'BTCUSDT@depth:11-11']);
    assert.deepEqual(ids(dedupe.offer('primary', d(12, 12))), ['BTCUSDT@depth:12-12']);
  });

  test('streams are independent', () => {
    const dedupe = new OverlapDedupe();
    dedupe.offer('primary', t(1, 'A@trade'));
    dedupe.offer('primary', t(100, 'B@trade'));
    assert.deepEqual(ids(dedupe.offer('secondary', t(2, 'A@trade'))), ['A@trade:2-2']);
    assert.deepEqual(ids(dedupe.offer('secondary', t(50, 'B@trade'))), []);
    assert.deepEqual(ids(dedupe.offer('secondary', t(101, 'B@trade'))), ['B@trade:101-101']);
  });

  test('a stream the old connection never delivered is held until promotion', () => {
    const dedupe = new OverlapDedupe();
    assert.deepEqual(ids(dedupe.offer('secondary', t(7, 'Q@trade'))), []);
    assert.deepEqual(ids(dedupe.promote()), ['Q@trade:7-7']);
  });

  test('discardHeld forgets the held items without moving the watermark', () => {
    const dedupe = new OverlapDedupe();
    dedupe.offer('primary', t(1));
    dedupe.offer('secondary', t(3));
    dedupe.discardHeld();
    assert.deepEqual(ids(dedupe.offer('primary', t(2))), ['BTCUSDT@trade:2-2']);
    assert.deepEqual(ids(dedupe.offer('primary', t(3))), ['BTCUSDT@trade:3-3']);
  });

  test('interleaved overlap of two complete copies forwards every id exactly once, in order', () => {
    const dedupe = new OverlapDedupe();
    const out: number[] = [];
    const push = (items: RangedItem[]): void => {
      for (const i of items) out.push(i.first);
    };
    for (let id = 1; id <= 20; id++) push(dedupe.offer('primary', t(id)));
    // The new connection starts at 15 and runs ahead; the old one continues to 30.
    let oldNext = 21;
    for (let id = 15; id <= 40; id++) {
      push(dedupe.offer('secondary', t(id)));
      if (id % 3 === 0 && oldNext <= 30) push(dedupe.offer('primary', t(oldNext++)));
    }
    push(dedupe.promote());
    assert.deepEqual(
      out,
      Array.from({ length: 40 }, (_, i) => i + 1),
    );
  });
});
