import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatUnits } from '@candleflow/common/decimal';
import type { DepthSnapshotEvent, DepthUpdateEvent } from '@candleflow/common/binance-events';
import { snapshotRecords, UpdateIdSequence, updateRecords } from '../src/orderbook-rows.js';

/** Records with their exact decimals as text, for comparison. */
const plain = <T extends { price: bigint; qty: bigint }>(records: T[]) =>
  records.map((r) => ({ ...r, price: formatUnits(r.price), qty: formatUnits(r.qty) }));

function diff(
  U: number,
  u: number,
  b: [string, string][] = [],
  a: [string, string][] = [],
  s = 'BTCUSDT',
): DepthUpdateEvent {
  return { e: 'depthUpdate', E: 1_700_000_000_000 + u, s, U, u, b, a };
}

function snapshot(lastUpdateId: number, s = 'BTCUSDT'): DepthSnapshotEvent {
  return {
    e: 'depthSnapshot',
    E: 1_700_000_000_000,
    s,
    lastUpdateId,
    bids: [['100.50000000', '1.00000000']],
    asks: [['101.00000000', '0.00000001']],
  };
}

test('a snapshot gives one row per level, bids then asks', () => {
  assert.deepEqual(plain(snapshotRecords(snapshot(42))), [
    {
      symbol: 'BTCUSDT',
      last_update_id: 42,
      snapshot_time_ms: 1_700_000_000_000,
      side: 'bid',
      price: '100.5',
      qty: '1',
    },
    {
      symbol: 'BTCUSDT',
      last_update_id: 42,
      snapshot_time_ms: 1_700_000_000_000,
      side: 'ask',
      price: '101',
      qty: '0.00000001',
    },
  ]);
});

test('a diff gives one row per changed level, removals as qty 0', () => {
  assert.deepEqual(
    plain(
      updateRecords(
        diff(
          5,
          7,
          [
            ['99.00000000', '0.00000000'],
            ['98.10000000', '2.50000000'],
          ],
          [['102.00000000', '3.00000000']],
        ),
      ),
    ),
    [
      {
        symbol: 'BTCUSDT',
        first_update_id: 5,
        last_update_id: 7,
        event_time_ms: 1_700_000_000_007,
        side: 'bid',
        price: '99',
        qty: '0',
      },
      {
        symbol: 'BTCUSDT',
        first_update_id: 5,
        last_update_id: 7,
        event_time_ms: 1_700_000_000_007,
        side: 'bid',
        price: '98.1',
        qty: '2.5',
      },
      {
        symbol: 'BTCUSDT',
        first_update_id: 5,
        last_update_id: 7,
        event_time_ms: 1_700_000_000_007,
        side: 'ask',
        price: '102',
        qty: '3',
      },
    ],
  );
  assert.deepEqual(updateRecords(diff(8, 8)), []);
});

test('update-id continuity: first, continuous, gap, stale, resync', () => {
  const seq = new UpdateIdSequence();
  assert.equal(seq.observe(snapshot(100)), 'first');
  assert.equal(seq.observe(diff(95, 101)), 'continuous', 'straddles lastUpdateId + 1');
  assert.equal(seq.observe(diff(102, 110)), 'continuous');
  assert.equal(seq.observe(diff(105, 110)), 'stale', 'nothing new');
  assert.equal(seq.observe(diff(115, 120)), 'gap', '111..114 missing');
  assert.equal(seq.observe(diff(121, 121)), 'continuous', 'continues from the gap diff');
  assert.equal(seq.observe(snapshot(200)), 'resync');
  assert.equal(seq.observe(diff(150, 200)), 'stale', 'covered by the snapshot');
  assert.equal(seq.observe(diff(202, 210)), 'gap', 'does not reach lastUpdateId + 1');
});

test('continuity is per symbol, and a first diff has nothing to check against', () => {
  const seq = new UpdateIdSequence();
  assert.equal(seq.observe(diff(10, 20, [], [], 'BTCUSDT')), 'first');
  assert.equal(seq.observe(diff(500, 510, [], [], 'ETHUSDT')), 'first');
  assert.equal(seq.observe(diff(21, 25, [], [], 'BTCUSDT')), 'continuous');
  assert.equal(seq.observe(diff(511, 512, [], [], 'ETHUSDT')), 'continuous');
  seq.clear();
  assert.equal(seq.observe(diff(900, 901, [], [], 'BTCUSDT')), 'first');
});
